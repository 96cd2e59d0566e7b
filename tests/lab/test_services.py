"""Services on the lab: kube-proxy's rules on every host and the node DNS, as a user sees them.

On the shared pods lab (``pods_cluster``), in a namespace of its own (deleted at the end),
everything written by the real controllers (endpoints, service map) from manifests: a
ReplicaSet ``web`` of three busybox httpd pods answering their hostname on :8080 behind
the Services ``web`` (ClusterIP :80) and ``web-np`` (NodePort); a DaemonSet ``client``
(a pod on every host); the headless Service ``kv`` over a 2-pod StatefulSet; ``empty``
(a selector nothing matches). The Deployment controller is not on main yet: the
ReplicaSet is what a Deployment would create.

From a pod on every host the Service answers by ClusterIP and by name; 300 requests
spread over all three endpoints; a pod reaches its own Service (hairpin); the NodePort
answers on every node's address from this machine; a pod turning unready or being
deleted leaves every host's rules within 1 s of its status reaching etcd; a Service
without endpoints REJECTs at once; headless and StatefulSet names resolve to pod IPs;
rules flushed by hand come back (the repair check every 30 s sees them gone; a full sync follows).
"""

from __future__ import annotations

import collections
import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab.conftest import PodsCluster
from tests.lab.test_pods import apply, wait_for

pytestmark = pytest.mark.lab

NS = "svc-test"
IMAGE = "busybox:1.36"
MASTER = "kf-master1"
ETCDCTL = (
    "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubeform/pki/ca.crt "
    "--cert=/etc/kubeform/pki/etcd.crt --key=/etc/kubeform/pki/etcd.key"
)
HTTPD = "mkdir -p /www && hostname > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www"
TOLERATE_ALL = [{"operator": "Exists"}]


def _pod_template(labels: dict[str, str], command: str, probe: bool) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": IMAGE, "command": ["sh", "-c", command]}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1}
    return {"metadata": {"labels": labels},
            "spec": {"terminationGracePeriodSeconds": 1, "tolerations": TOLERATE_ALL, "containers": [container]}}


def _service(name: str, selector: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"app": selector}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}], **spec}}


def manifests() -> list[dict[str, Any]]:
    meta = {"namespace": NS}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", **meta},
         "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                  "template": _pod_template({"app": "web"}, HTTPD, probe=True)}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "client", **meta},
         "spec": {"selector": {"matchLabels": {"app": "client"}},
                  "template": _pod_template({"app": "client"}, "exec sleep 100000", probe=False)}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "kv", **meta},
         "spec": {"replicas": 2, "serviceName": "kv", "selector": {"matchLabels": {"app": "kv"}},
                  "template": _pod_template({"app": "kv"}, HTTPD, probe=False)}},
        _service("web", "web"),
        _service("web-np", "web", type="NodePort"),
        _service("empty", "nobody"),
        _service("kv", "kv", clusterIP="None"),
    ]


def pods(c: PodsCluster, app: str) -> dict[str, dict[str, Any]]:
    """Running pods of ``app=<app>`` (no deletionTimestamp): name -> {ip, node, ready}."""
    out = json.loads(c.kf("get", "pods", "-n", NS, "-l", f"app={app}", "-o", "json").stdout)
    found = {}
    for p in out.get("items", []):
        st = p.get("status") or {}
        if st.get("phase") != "Running" or p["metadata"].get("deletionTimestamp"):
            continue
        ready = any(cond.get("type") == "Ready" and cond.get("status") == "True" for cond in st.get("conditions") or [])
        found[p["metadata"]["name"]] = {"ip": st.get("podIP"), "node": p["spec"].get("nodeName"), "ready": ready}
    return found


def map_entry(c: PodsCluster, name: str) -> dict[str, Any] | None:
    """The service-map entry the reconciler wrote for NS/name."""
    out = c.ssh(MASTER, f"{ETCDCTL} get --print-value-only /registry/kubeform/servicemap/{NS}/{name}", check=False)
    return json.loads(out) if out.strip() else None


def endpoint_ips(c: PodsCluster, name: str) -> set[str]:
    e = map_entry(c, name)
    return {ep["ip"] for p in (e or {}).get("ports", []) for ep in p.get("endpoints", [])}


@pytest.fixture(scope="module")
def web(pods_cluster: PodsCluster) -> Iterator[dict[str, Any]]:
    """The objects above applied; their pods Running and Ready; the map entries written."""
    c = pods_cluster
    hosts = [h.name for h in c.lab.hosts]
    try:
        apply(c, *manifests())
        backends = wait_for("3 web pods ready", lambda: (lambda p: p if len(p) == 3 and all(v["ready"] for v in p.values())
                                                          else None)(pods(c, "web")), 240)
        clients = wait_for("a client pod on every host", lambda: (lambda p: p if sorted(v["node"] for v in p.values()) == sorted(hosts)
                                                                   else None)(pods(c, "client")), 240)
        kv = wait_for("kv-0 and kv-1 running", lambda: (lambda p: p if set(p) == {"kv-0", "kv-1"} else None)(pods(c, "kv")), 240)
        want = {v["ip"] for v in backends.values()}
        wait_for("web's map entry with the 3 pods", lambda: endpoint_ips(c, "web") == want, 30)
        svcs = {n: json.loads(c.kf("get", "svc", n, "-n", NS, "-o", "json").stdout)["spec"] for n in ("web", "web-np", "empty")}
        yield {"pods": backends, "clients": {v["node"]: k for k, v in clients.items()}, "kv": kv, "svcs": svcs,
               "node_port": int(svcs["web-np"]["ports"][0]["nodePort"]), "hosts": hosts}
    finally:
        c.kf("delete", "namespace", NS, "--timeout", "120s", check=False)


def kexec(c: PodsCluster, pod: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`kubeform exec -n NS pod -- command`."""
    argv = [sys.executable, "-m", "kubeform", "exec", "--cluster", str(c.cluster_dir), "-n", NS, pod, "--", *command]
    proc = subprocess.run(argv, cwd=c.workdir, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"exec {command} in {pod}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def fetch(c: PodsCluster, pod: str, url: str, n: int = 1) -> list[str]:
    """n HTTP GETs from inside pod (busybox wget), the bodies (hostnames), failures as ''."""
    # busybox's timeout, not wget -T: Debian busybox-static's wget segfaults with -T
    script = f"for i in $(seq {n}); do timeout 3 wget -q -O - {url} 2>/dev/null || echo; done"
    out = kexec(c, pod, "sh", "-c", script, check=False).stdout
    return [line.strip() for line in out.splitlines()]


def test_clusterip_by_ip_and_name_from_every_host(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    c = pods_cluster
    names = set(web["pods"])
    ip = web["svcs"]["web"]["clusterIP"]
    for host, client in sorted(web["clients"].items()):
        for url in (f"http://{ip}/", f"http://web.{NS}.svc.cluster.local/", "http://web/"):  # "web": the search list
            got = wait_for(f"{url} from {client} on {host}",
                           lambda client=client, url=url: [b for b in fetch(c, client, url) if b in names], 20)
            assert got, (host, url)


def test_300_connections_spread_over_3_endpoints(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    bodies = fetch(pods_cluster, web["clients"]["kf-node1"], f"http://{web['svcs']['web']['clusterIP']}/", 300)
    counts = collections.Counter(bodies)
    assert sum(counts[p] for p in web["pods"]) == 300, counts
    assert all(counts[p] >= 60 for p in web["pods"]), counts  # each at least 20%


def test_hairpin_a_pod_reaches_itself_through_its_service(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    pod = sorted(web["pods"])[0]
    bodies = fetch(pods_cluster, pod, f"http://{web['svcs']['web']['clusterIP']}/", 30)
    assert pod in bodies, bodies  # ~1/3 of them land on the pod itself


def test_nodeport_on_every_node_address_from_this_machine(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    for h in pods_cluster.lab.hosts:
        url = f"http://{h.address}:{web['node_port']}/"

        def get(url: str = url) -> str:
            try:
                with urllib.request.urlopen(url, timeout=3) as r:
                    return str(r.read().decode().strip())
            except OSError:
                return ""

        assert wait_for(f"NodePort {url}", get, 20) in web["pods"]


def test_service_without_endpoints_rejects_at_once(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    ip = web["svcs"]["empty"]["clusterIP"]
    out = kexec(pods_cluster, web["clients"]["kf-node2"], "sh", "-c", f"(time timeout 10 wget -q -O - http://{ip}/) 2>&1; echo rc=$?",
                check=False).stdout
    assert "rc=1" in out and "refused" in out.lower(), out
    took = re.search(r"real\s+(\d+)m\s*([\d.]+)s", out)
    # refused on the SYN's first retransmission (~1 s): the REJECT's ICMP comes back while
    # connect() still holds its socket, which makes it a soft error; a DROP waits 10 s here
    assert took and int(took.group(1)) * 60 + float(took.group(2)) < 3, out


def test_headless_and_statefulset_names(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    c = pods_cluster
    kv = web["kv"]
    client = web["clients"]["kf-node2"]
    out = wait_for("headless kv answers with both pods",
                   lambda: (lambda o: o if all(p["ip"] in o for p in kv.values()) else "")(
                       kexec(c, client, "nslookup", f"kv.{NS}.svc.cluster.local", check=False).stdout), 20)
    one = kexec(c, client, "nslookup", f"kv-1.kv.{NS}.svc.cluster.local", check=False).stdout
    assert kv["kv-1"]["ip"] in one and kv["kv-0"]["ip"] not in one, (out, one)


def _removal_latency(c: PodsCluster, web: dict[str, Any], pod: str, act: Any, gone_when: Any) -> dict[str, float]:
    """Seconds from the pod's change reaching etcd (gone_when(pod object) first true, seen by
    an etcd watch on the master) to its DNAT gone from each host's nat table. Each host
    polls its own rules; nspawn machines share this kernel's clock."""
    ip = web["pods"][pod]["ip"]
    done: dict[str, float] = {}
    changed: list[float] = []

    def poll(host: str) -> None:
        out = c.ssh(host, f"for i in $(seq 3000); do iptables-save -t nat | grep -q -- '--to-destination {ip}:8080' || break; "
                          "sleep 0.005; done; date +%s.%N")
        done[host] = float(out.strip().splitlines()[-1])

    def watch() -> None:
        out = c.ssh(MASTER, f"timeout 20 env {ETCDCTL} watch /registry/pods/{NS}/{pod} | "
                            "while IFS= read -r l; do echo \"$(date +%s.%N) $l\"; done", check=False)
        for line in out.splitlines():
            stamp, _, rest = line.partition(" ")
            if rest.startswith("{"):
                if gone_when(json.loads(rest)):
                    changed.append(float(stamp))
                    return
            elif rest == "DELETE" and not changed:
                changed.append(float(stamp))
                return

    threads = [threading.Thread(target=poll, args=(h,)) for h in web["hosts"]] + [threading.Thread(target=watch)]
    for t in threads:
        t.start()
    time.sleep(2)  # every poller and the watch running
    act()
    for t in threads:
        t.join(60)
    assert changed and len(done) == 3, (changed, done)
    return {h: round(t - changed[0], 3) for h, t in done.items()}


def _unready(pod: dict[str, Any]) -> bool:
    return any(cond.get("type") == "Ready" and cond.get("status") == "False" for cond in (pod.get("status") or {}).get("conditions") or [])


def test_unready_or_deleted_pod_leaves_every_host_within_1s(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    c = pods_cluster
    first, second = sorted(web["pods"])[:2]
    unready = _removal_latency(c, web, first, lambda: kexec(c, first, "rm", "/www/ready"), _unready)
    kexec(c, first, "touch", "/www/ready")
    deleted = _removal_latency(c, web, second, lambda: c.kf("delete", "pod", second, "-n", NS),
                               lambda p: bool(p.get("metadata", {}).get("deletionTimestamp")))
    print(f"endpoint removal latency: unready {unready}, deleted {deleted}")
    assert all(v < 1.0 for v in [*unready.values(), *deleted.values()]), (unready, deleted)


def test_rules_flushed_by_hand_come_back(pods_cluster: PodsCluster, web: dict[str, Any]) -> None:
    c = pods_cluster
    ip = web["svcs"]["web"]["clusterIP"]
    c.ssh("kf-node1", "iptables -t nat -F KUBE-SERVICES && iptables -t nat -D PREROUTING -m comment "
          "--comment 'kubernetes service portals' -j KUBE-SERVICES")
    jump = '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    wait_for("KUBE-SERVICES and its jump back on kf-node1 (repair check, 30 s)",
             lambda: (lambda saved: f"-A KUBE-SERVICES -d {ip}/32" in saved and jump in saved)(c.ssh("kf-node1", "iptables-save -t nat")),
             45, every=1)
