"""The read-only Node view: what the agents registered, Ready from their heartbeat lease.

Agents write ``/registry/minions/<name>`` (a v1 Node) and keep
``/registry/leases/kube-node-lease/<name>`` (a coordination.k8s.io/v1 Lease attached to an
etcd lease). A node is Ready while that lease key exists and, if it says when it was
renewed, the renewal is younger than its leaseDurationSeconds. Pure.
"""

from __future__ import annotations

import datetime
from typing import Any

Obj = dict[str, Any]

NODE_PREFIX = "/registry/minions/"
LEASE_PREFIX = "/registry/leases/kube-node-lease/"
DEFAULT_LEASE_SECONDS = 40


def _parse_time(ts: Any) -> datetime.datetime | None:
    if not isinstance(ts, str):
        return None
    try:
        t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.UTC)


def lease_fresh(lease: Obj | None, now: datetime.datetime) -> bool:
    """True when the lease key exists and its renewTime (if any) is recent enough."""
    if lease is None:
        return False
    spec = lease.get("spec") or {}
    renewed = _parse_time(spec.get("renewTime"))
    if renewed is None:
        return True  # existence is the heartbeat: the etcd lease deletes it on expiry
    duration = spec.get("leaseDurationSeconds") or DEFAULT_LEASE_SECONDS
    return (now - renewed).total_seconds() <= float(duration)


def node_view(node: Obj, lease: Obj | None, now: datetime.datetime) -> Obj:
    """The Node with its Ready condition derived from the lease (other conditions kept)."""
    out = dict(node)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Node")
    status = dict(out.get("status") or {})
    ready = lease_fresh(lease, now)
    renew = ((lease or {}).get("spec") or {}).get("renewTime")
    cond = {
        "type": "Ready",
        "status": "True" if ready else "Unknown" if lease is None else "False",
        "reason": "KubeletReady" if ready else "NodeStatusUnknown",
        "message": "node lease is fresh" if ready else "node lease expired or missing",
    }
    if renew:
        cond["lastHeartbeatTime"] = renew
    others = [c for c in status.get("conditions") or [] if c.get("type") != "Ready"]
    status["conditions"] = [cond, *others]
    out["status"] = status
    return out
