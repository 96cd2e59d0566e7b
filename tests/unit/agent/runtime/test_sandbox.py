"""The pod network's bookkeeping (kubeform.agent.runtime.sandbox) with fake CNI plugins:
wired once per netns, the same IP after an agent restart, wired again when the netns is
re-made (a reboot), freed with the cached result."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from kubeform.agent.runtime import sandbox
from kubeform.agent.runtime.driver import SandboxSpec

PLUGIN = r'''#!/usr/bin/env python3
import json, os, sys
conf = json.load(sys.stdin)
LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls")
cmd = os.environ["CNI_COMMAND"]
open(LOG, "a").write(json.dumps([conf["type"], cmd, os.environ["CNI_IFNAME"]]) + "\n")
if cmd == "ADD" and conf["type"] == "bridge":
    n = sum(1 for _ in open(LOG))
    print(json.dumps({"cniVersion": "0.4.0", "ips": [{"version": "4", "address": "10.244.3.%d/24" % n,
                                                       "gateway": "10.244.3.1"}]}))
elif cmd == "ADD":
    print(json.dumps(conf.get("prevResult") or {"cniVersion": "0.4.0"}))
'''


@pytest.fixture
def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sandbox.PodNetwork:
    bins = tmp_path / "cni"
    bins.mkdir()
    for name in ("bridge", "portmap", "loopback"):
        p = bins / name
        p.write_text(PLUGIN)
        p.chmod(p.stat().st_mode | stat.S_IXUSR)
    env = tmp_path / "subnet.env"
    env.write_text("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.3.1/24\nFLANNEL_MTU=1450\n")
    return sandbox.PodNetwork(str(tmp_path / "state"), str(tmp_path / "net.d"), [str(bins)], str(env),
                              "10.96.0.10", "cluster.local")


def _calls(tmp_path: Path) -> list[list[str]]:
    return [json.loads(x) for x in (tmp_path / "cni" / "calls").read_text().splitlines()]


SPEC = SandboxSpec("u-1", "shop", "web-0", "web-0", [{"hostPort": 80, "containerPort": 8080, "protocol": "tcp"}],
                   "web", "ClusterFirst")


def test_wire_once_then_again_for_a_new_netns(net: sandbox.PodNetwork, tmp_path: Path) -> None:
    ns = tmp_path / "netns-a"
    ns.write_text("")
    ip = net.wire(SPEC, "kfp-u-1", str(ns))
    assert ip.startswith("10.244.3.")
    assert net.wire(SPEC, "kfp-u-1", str(ns)) == ip  # an agent restart: nothing run again
    assert net.cached_ip("u-1") == ip
    assert [c[:2] for c in _calls(tmp_path)] == [["loopback", "ADD"], ["bridge", "ADD"], ["portmap", "ADD"]]
    assert (tmp_path / "net.d" / "10-kubeform.conflist").exists()
    # the netns is re-made under the same path (another inode): DEL the stale wiring, ADD again
    before = os.stat(ns).st_ino
    (tmp_path / "other").write_text("")
    os.replace(tmp_path / "other", ns)
    assert os.stat(ns).st_ino != before
    net.wire(SPEC, "kfp-u-1", str(ns))
    assert [c[:2] for c in _calls(tmp_path)][3:] == [
        ["portmap", "DEL"], ["bridge", "DEL"], ["loopback", "ADD"], ["bridge", "ADD"], ["portmap", "ADD"],
    ]


def test_files_and_teardown(net: sandbox.PodNetwork, tmp_path: Path) -> None:
    ns = tmp_path / "netns"
    ns.write_text("")
    net.save_spec(SPEC)
    ip = net.wire(SPEC, "kfp-u-1", str(ns))
    files = net.write_files(SPEC, ip)
    assert Path(files["/etc/hosts"]).read_text().splitlines()[-1] == f"{ip}\tweb-0.web.shop.svc.cluster.local\tweb-0"
    assert Path(files["/etc/hostname"]).read_text() == "web-0\n"
    assert "search shop.svc.cluster.local" in Path(files["/etc/resolv.conf"]).read_text()
    assert net.pod_uids() == ["u-1"] and (net.load("u-1") or {})["subdomain"] == "web"
    volumes = Path(net.pod_dir("u-1")) / "volumes"
    volumes.mkdir()
    net.teardown("u-1", "kfp-u-1")
    assert not os.path.exists(net.sandbox_dir("u-1")) and volumes.is_dir()  # the pod dir's rest is not ours
    assert [c[:2] for c in _calls(tmp_path)][-2:] == [["portmap", "DEL"], ["bridge", "DEL"]]
    assert net.pod_uids() == []
