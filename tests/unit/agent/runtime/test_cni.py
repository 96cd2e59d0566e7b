"""CNI config and protocol (kubeform.agent.runtime.cni) against tests/data/agent_runtime/cni.

Why data: the conflist must stay what flannel's CNI plugin would hand to bridge, and the
results are parsed from output recorded from the real plugins on a lab host.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import cni

DATA = Path(__file__).parents[3] / "data" / "agent_runtime" / "cni"
CASES: dict[str, Any] = yaml.safe_load((DATA / "cases.yaml").read_text())
RECORDED: dict[str, Any] = json.loads((DATA / "recorded_results.json").read_text())


@pytest.mark.parametrize("case", CASES["subnet_env"], ids=lambda c: c["name"])
def test_parse_subnet_env(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(cni.CNIError, match=case["error"]):
            cni.parse_subnet_env(case["text"])
        return
    assert cni.parse_subnet_env(case["text"])._asdict() == case["want"]


@pytest.mark.parametrize("case", CASES["conflist"], ids=lambda c: c["name"])
def test_conflist(case: dict[str, Any]) -> None:
    assert cni.conflist(cni.SubnetEnv(**case["env"])) == case["want"]


@pytest.mark.parametrize("case", CASES["plugin_stdin"], ids=lambda c: c["name"])
def test_plugin_stdin(case: dict[str, Any]) -> None:
    netconf = CASES["conflist"][0]["want"]
    got = cni.plugin_stdin(netconf, case["index"], case["prev"], case["runtime_config"])
    if "want_keys" in case:
        assert sorted(got) == case["want_keys"]
    else:
        assert got == case["want"]


@pytest.mark.parametrize("case", CASES["parse_ips"], ids=lambda c: c["name"])
def test_parse_ips(case: dict[str, Any]) -> None:
    assert [list(ip) for ip in cni.parse_ips(case["result"])] == case["want"]


def test_parse_recorded_results() -> None:
    assert cni.parse_ips(RECORDED["bridge_add"]) == [cni.PodIP("10.244.3.2", 24, "10.244.3.1")]
    # portmap passes bridge's result on unchanged (chaining works)
    assert RECORDED["portmap_add"] == RECORDED["bridge_add"]
    assert cni.parse_ips(RECORDED["loopback_add"]) == [cni.PodIP("127.0.0.1", 8, "")]


def test_recorded_error() -> None:
    err = RECORDED["error_netns"]
    msg = cni.error_message("bridge", err["stdout"], err["stderr"], err["code"])
    assert msg.startswith('bridge: failed to open netns "/run/netns/nonexistent"')


@pytest.mark.parametrize("case", CASES["error_message"], ids=lambda c: c["name"])
def test_error_message(case: dict[str, Any]) -> None:
    assert cni.error_message(case["plugin"], case["stdout"], case["stderr"], case["code"]) == case["want"]


def test_protocol_with_fake_plugins(tmp_path: Path) -> None:
    """ADD chains prevResult through the list; DEL runs in reverse; env and stdin as the spec says."""
    log = tmp_path / "calls"
    for name, result in (("bridge", RECORDED["bridge_add"]), ("portmap", None)):
        script = tmp_path / name
        out = json.dumps(result) if result else ""
        script.write_text(
            "#!/usr/bin/env python3\nimport json, os, sys\n"
            "conf = json.load(sys.stdin)\n"
            f"open({str(log)!r}, 'a').write(json.dumps([{name!r}, os.environ['CNI_COMMAND'], "
            "os.environ['CNI_IFNAME'], os.environ['CNI_NETNS'], 'prevResult' in conf, "
            "conf.get('runtimeConfig')]) + '\\n')\n"
            f"out = {out!r}\n"
            "print(out if out else json.dumps(conf.get('prevResult', {})))\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    netconf = cni.conflist(cni.SubnetEnv("10.244.0.0/16", "10.244.3.0/24", 1450, True))
    pm = {"portMappings": [{"hostPort": 80, "containerPort": 8080, "protocol": "tcp"}]}
    result = cni.add(netconf, "c1", "/run/netns/x", [str(tmp_path)], pm)
    assert cni.parse_ips(result)[0].address == "10.244.3.2"
    cni.delete(netconf, "c1", "", [str(tmp_path)], result, pm)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [
        ["bridge", "ADD", "eth0", "/run/netns/x", False, None],
        ["portmap", "ADD", "eth0", "/run/netns/x", True, pm],
        ["portmap", "DEL", "eth0", "", True, pm],
        ["bridge", "DEL", "eth0", "", True, None],
    ]
    # a pod without hostPorts: portmap (nothing to map, nothing to remove) is not run
    log.unlink()
    result = cni.add(netconf, "c2", "/run/netns/y", [str(tmp_path)], {})
    cni.check(netconf, "c2", "/run/netns/y", [str(tmp_path)], result, {})
    cni.delete(netconf, "c2", "", [str(tmp_path)], result, {})
    assert [json.loads(line)[:2] for line in log.read_text().splitlines()] == [
        ["bridge", "ADD"], ["bridge", "CHECK"], ["bridge", "DEL"],
    ]


def test_missing_plugin(tmp_path: Path) -> None:
    with pytest.raises(cni.CNIError, match="not found"):
        cni.find_plugin("bridge", [str(tmp_path)])


def test_write_conflist_only_when_changed(tmp_path: Path) -> None:
    netconf = cni.conflist(cni.SubnetEnv("10.244.0.0/16", "10.244.3.0/24", 1450, True))
    path = cni.write_conflist(str(tmp_path), netconf)
    before = os.stat(path).st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    cni.write_conflist(str(tmp_path), netconf)
    assert os.stat(path).st_mtime_ns == before - 10**9
    assert json.loads(Path(path).read_text()) == netconf
