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
import re
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api.daemonconfig import ConfigError

NODE_PREFIX = "/registry/minions/"
HEARTBEAT_PREFIX = "/registry/leases/kube-node-lease/"
HEARTBEAT_TTL = 10
# Kept back from the scheduler for the host itself (sshd, etcd, the agent and the
# reconciler): the scheduler places pods against allocatable = capacity - reserve (never
# below 0), as the kubelet's --system-reserved does.
SYSTEM_RESERVED_CPU_MILLIS = 100
SYSTEM_RESERVED_MEMORY_KIB = 256 * 1024
MAX_PODS = 110
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_TAINT_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?%s$" % _NAME)
_TAINT_VALUE = re.compile(r"^(%s)?$" % _NAME)
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


def render_heartbeat(name, now, usage=None):
    # type: (str, datetime.datetime, Optional[Dict[str, Any]]) -> str
    """The heartbeat value: a coordination.k8s.io Lease spec, enough to read who and when,
    and the host's measured ``usage`` (kubeform.api.usage reads it for `kubeform top nodes`;
    here and not in the Node object, which the scheduler rebuilds from on every change)."""
    value = {"holderIdentity": name, "renewTime": rfc3339(now), "leaseDurationSeconds": HEARTBEAT_TTL}  # type: Dict[str, Any]
    if usage:
        value["usage"] = usage
    return json.dumps(value, sort_keys=True)


#: How long a host CPU rate is measured over (the pods' USAGE_PERIOD, metrics-server's 15 s).
NODE_USAGE_PERIOD = 15.0


def parse_proc_stat(text):
    # type: (str) -> Tuple[int, int]
    """(busy, total) jiffies of all CPUs from /proc/stat's ``cpu`` line; busy = total
    minus idle and iowait (guest time is already inside user)."""
    for line in text.splitlines():
        if line.startswith("cpu "):
            fields = [int(x) for x in line.split()[1:9]]
            fields += [0] * (8 - len(fields))
            total = sum(fields)
            return total - fields[3] - fields[4], total
    return 0, 0


def parse_meminfo_used(text):
    # type: (str) -> int
    """Bytes in use: MemTotal - MemAvailable (what `free` and kubectl top call used)."""
    values = {}  # type: Dict[str, int]
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("MemTotal:", "MemAvailable:", "MemFree:"):
            values[parts[0][:-1]] = int(parts[1]) * 1024
    available = values.get("MemAvailable", values.get("MemFree", 0))
    return max(0, values.get("MemTotal", 0) - available)


class NodeUsage(object):
    """The host's CPU rate (over at least NODE_USAGE_PERIOD) and memory in use, from
    /proc/stat and /proc/meminfo; ``sample`` is fed the files' text and the time."""

    def __init__(self, cpus):
        # type: (int) -> None
        self.cpus = max(1, cpus)
        self.start = None  # type: Optional[Tuple[float, int, int]]  # (when, busy, total)
        self.cpu_millis = None  # type: Optional[int]
        self.window = 0.0
        self.at = 0.0

    def sample(self, stat, meminfo, now):
        # type: (str, str, float) -> Dict[str, Any]
        busy, total = parse_proc_stat(stat)
        if self.start is None:
            self.start = (now, busy, total)
        elif now - self.start[0] >= NODE_USAGE_PERIOD and total > self.start[2]:
            share = float(busy - self.start[1]) / float(total - self.start[2])
            self.cpu_millis = max(0, round(share * self.cpus * 1000))
            self.window = now - self.start[0]
            self.at = now
            self.start = (now, busy, total)
        out = {"memory": "%dKi" % (parse_meminfo_used(meminfo) // 1024)}  # type: Dict[str, Any]
        if self.cpu_millis is not None:
            out["cpu"] = "%dm" % self.cpu_millis
            out["window"] = "%ds" % round(self.window)
        else:
            out["window"] = "0s"
        out["timestamp"] = datetime.datetime.utcfromtimestamp(now).strftime("%Y-%m-%dT%H:%M:%SZ")
        return out


def parse_taint(text, path="<config>"):
    # type: (str, str) -> Dict[str, str]
    """One taint of the config's `taints` list: "key=value:Effect" or "key:Effect".

    Strict (the form of kubelet's --register-with-taints): a taint the scheduler would read
    differently from what the operator meant must stop the agent, naming the field.
    """
    def bad(why):
        # type: (str) -> ConfigError
        return ConfigError("%s: field 'taints': %r %s (want key=value:Effect or key:Effect)" % (path, text, why))

    if text.count(":") < 1:
        raise bad("has no effect")
    body, effect = text.rsplit(":", 1)
    if effect not in TAINT_EFFECTS:
        raise bad("has effect %r, not one of %s" % (effect, ", ".join(TAINT_EFFECTS)))
    key, sep, value = body.partition("=")
    if not key or len(key.rsplit("/", 1)[-1]) > 63 or len(key) > 316 or not _TAINT_KEY.match(key):
        raise bad("has an invalid key")
    if sep and (len(value) > 63 or not _TAINT_VALUE.match(value)):
        raise bad("has an invalid value")
    taint = {"key": key, "effect": effect}
    if value:
        taint["value"] = value
    return taint


def parse_taints(entries, path="<config>"):
    # type: (List[str], str) -> List[Dict[str, str]]
    """The config's `taints` as Node spec.taints; one key may carry an effect only once."""
    out = []  # type: List[Dict[str, str]]
    seen = set()
    for text in entries:
        taint = parse_taint(text, path)
        if (taint["key"], taint["effect"]) in seen:
            raise ConfigError("%s: field 'taints': %s:%s is listed twice" % (path, taint["key"], taint["effect"]))
        seen.add((taint["key"], taint["effect"]))
        out.append(taint)
    return out


def allocatable(cpu_cores, memory_kib):
    # type: (int, int) -> Dict[str, str]
    """What the scheduler may hand out: capacity minus the system reserve, never below 0.

    cpu is written in millicores when the reserve leaves a fraction ("1900m"), as
    Kubernetes prints it.
    """
    millis = max(0, int(cpu_cores) * 1000 - SYSTEM_RESERVED_CPU_MILLIS)
    cpu = str(millis // 1000) if millis % 1000 == 0 else "%dm" % millis
    memory = max(0, int(memory_kib) - SYSTEM_RESERVED_MEMORY_KIB)
    return {"cpu": cpu, "memory": "%dKi" % memory, "pods": str(MAX_PODS)}


def render_node(name, roles, facts, pod_cidr, created=None, taints=None):
    # type: (str, List[str], Dict[str, Any], Optional[str], Optional[str], Optional[List[Dict[str, str]]]) -> Dict[str, Any]
    """The v1 Node object this agent publishes (readiness lives in the heartbeat, not here).

    `taints` is spec.taints, as ``parse_taints`` reads them from the config.
    """
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
    if taints:
        spec["taints"] = [dict(t) for t in taints]
    cpu = int(facts.get("cpu", 1))
    memory_kib = int(facts.get("memory_kib", 0))
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": metadata,
        "spec": spec,
        "status": {
            "addresses": addresses,
            "capacity": {"cpu": str(cpu), "memory": "%dKi" % memory_kib, "pods": str(MAX_PODS)},
            "allocatable": allocatable(cpu, memory_kib),
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
