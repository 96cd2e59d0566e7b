"""The node's own records in etcd: its v1 Node object and its heartbeat, as pure functions.

Why: the reconciler and `kubeform get nodes` learn about hosts only from etcd. The Node
object (at /registry/minions/<name>, the key Kubernetes used) says what the host is; the
heartbeat key (/registry/leases/kube-node-lease/<name>) is bound to a 10 s etcd lease that
the agent keeps alive every 3 s, so the node is Ready exactly while that key exists - a
stopped or cut-off agent makes it vanish without anyone having to notice.
"""

import datetime
import json
import os
import platform
from typing import Any, Dict, List, Optional

NODE_PREFIX = "/registry/minions/"
HEARTBEAT_PREFIX = "/registry/leases/kube-node-lease/"
HEARTBEAT_TTL = 10
HEARTBEAT_INTERVAL = 3.0
AGENT_VERSION = "kubeform-agent/0.1"


def node_key(name):
    # type: (str) -> str
    return NODE_PREFIX + name


def heartbeat_key(name):
    # type: (str) -> str
    return HEARTBEAT_PREFIX + name


def rfc3339(now):
    # type: (datetime.datetime) -> str
    """UTC time the way Kubernetes' MicroTime prints it (2024-01-02T03:04:05.000006Z)."""
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def render_heartbeat(name, now):
    # type: (str, datetime.datetime) -> str
    """The heartbeat value: a coordination.k8s.io Lease spec, enough to read who and when."""
    return json.dumps(
        {"holderIdentity": name, "renewTime": rfc3339(now), "leaseDurationSeconds": HEARTBEAT_TTL},
        sort_keys=True,
    )


def render_node(name, roles, facts, pod_cidr, created=None):
    # type: (str, List[str], Dict[str, Any], Optional[str], Optional[str]) -> Dict[str, Any]
    """The v1 Node object this agent publishes (readiness lives in the heartbeat, not here)."""
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    for role in roles:
        labels["node-role.kubernetes.io/%s" % role] = ""
    addresses = [{"type": "Hostname", "address": name}]
    if facts.get("internal_ip"):
        addresses.insert(0, {"type": "InternalIP", "address": facts["internal_ip"]})
    metadata = {"name": name, "labels": labels}  # type: Dict[str, Any]
    if created:
        metadata["creationTimestamp"] = created
    spec = {}  # type: Dict[str, Any]
    if pod_cidr:
        spec["podCIDR"] = pod_cidr
        spec["podCIDRs"] = [pod_cidr]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": metadata,
        "spec": spec,
        "status": {
            "addresses": addresses,
            "capacity": {
                "cpu": str(facts.get("cpu", 1)),
                "memory": "%dKi" % int(facts.get("memory_kib", 0)),
                "pods": "110",
            },
            "nodeInfo": {
                "kernelVersion": facts.get("kernel", ""),
                "osImage": facts.get("os_image", ""),
                "architecture": facts.get("architecture", ""),
                "operatingSystem": "linux",
                "kubeletVersion": AGENT_VERSION,
            },
        },
    }


def node_needs_write(existing, wanted):
    # type: (Optional[Dict[str, Any]], Dict[str, Any]) -> bool
    """Write only on change: other parts of kubeform watch /registry/minions/."""
    return existing != wanted


def parse_os_release(text):
    # type: (str) -> str
    """PRETTY_NAME from /etc/os-release (what `kubectl get nodes -o wide` shows as OS-IMAGE)."""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "Linux"


def parse_meminfo(text):
    # type: (str) -> int
    """MemTotal in KiB from /proc/meminfo."""
    for line in text.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def gather_facts(internal_ip):
    # type: (str) -> Dict[str, Any]
    """The host facts the Node object reports (the only impure function here)."""
    def read(path):
        # type: (str) -> str
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    return {
        "internal_ip": internal_ip,
        "cpu": os.cpu_count() or 1,
        "memory_kib": parse_meminfo(read("/proc/meminfo")),
        "kernel": platform.release(),
        "os_image": parse_os_release(read("/etc/os-release")),
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine()),
    }
