"""The read-only Node view: what the agents registered, Ready from their heartbeat lease.

Agents write ``/registry/minions/<name>`` (a v1 Node) and keep
``/registry/leases/kube-node-lease/<name>`` (a coordination.k8s.io/v1 Lease attached to an
etcd lease). A node is Ready while that lease key exists and, if it says when it was
renewed, the renewal is younger than its leaseDurationSeconds. Pure.
"""

import datetime
from typing import Any, Dict, Optional

Obj = Dict[str, Any]

NODE_PREFIX = "/registry/minions/"
LEASE_PREFIX = "/registry/leases/kube-node-lease/"
DEFAULT_LEASE_SECONDS = 40
STOPPED_POSTING = "Kubelet stopped posting node status."


def _parse_time(ts: Any) -> Optional[datetime.datetime]:
    if not isinstance(ts, str):
        return None
    return parse_time(ts)


def parse_time(ts: str) -> Optional[datetime.datetime]:
    """An RFC 3339 time (``...Z``, ``+hh:mm`` or naive = UTC, optional fraction) as aware UTC.

    Written out because ``datetime.fromisoformat`` is Python 3.7+ and hosts may run 3.6.
    """
    text = ts.strip()
    offset = datetime.timedelta(0)
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1]
    elif len(text) > 6 and text[-6] in "+-" and text[-3] == ":":
        sign = 1 if text[-6] == "+" else -1
        try:
            offset = sign * datetime.timedelta(hours=int(text[-5:-3]), minutes=int(text[-2:]))
        except ValueError:
            return None
        text = text[:-6]
    fraction = 0
    if "." in text:
        text, frac = text.split(".", 1)
        if not frac.isdigit():
            return None
        fraction = int((frac + "000000")[:6])
    try:
        t = datetime.datetime.strptime(text.replace("t", "T").replace(" ", "T"), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    t = t.replace(microsecond=fraction) - offset
    return t.replace(tzinfo=datetime.timezone.utc)


def lease_fresh(lease: Optional[Obj], now: datetime.datetime) -> bool:
    """True when the lease key exists and its renewTime (if any) is recent enough."""
    if lease is None:
        return False
    spec = lease.get("spec") or {}
    renewed = _parse_time(spec.get("renewTime"))
    if renewed is None:
        return True  # existence is the heartbeat: the etcd lease deletes it on expiry
    duration = spec.get("leaseDurationSeconds") or DEFAULT_LEASE_SECONDS
    return (now - renewed).total_seconds() <= float(duration)


def node_view(node: Obj, lease: Optional[Obj], now: datetime.datetime) -> Obj:
    """The Node with its Ready condition derived from the lease (other conditions kept).

    A missing or stale lease is Ready=Unknown, reason NodeStatusUnknown, "Kubelet stopped
    posting node status." (what Kubernetes' node lifecycle controller writes); with a
    fresh lease the node is Ready unless its agent itself reports Ready=False in the
    stored status (then that condition stands: the node is up but cannot run pods).
    """
    out = dict(node)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Node")
    status = dict(out.get("status") or {})
    fresh = lease_fresh(lease, now)
    renew = ((lease or {}).get("spec") or {}).get("renewTime")
    stored = [c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type") == "Ready"]
    if fresh and stored and stored[0].get("status") == "False":
        cond = dict(stored[0])
    elif fresh:
        cond = {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "node lease is fresh"}
    else:
        cond = {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": STOPPED_POSTING}
    if renew:
        cond["lastHeartbeatTime"] = renew
    others = [c for c in status.get("conditions") or [] if c.get("type") != "Ready"]
    status["conditions"] = [cond, *others]
    out["status"] = status
    return out


def ready_status(view: Obj) -> str:
    """"True", "False" or "Unknown": the Ready condition of a ``node_view``."""
    for cond in (view.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return str(cond.get("status") or "Unknown")
    return "Unknown"
