"""v1 Events: what happened to an object, as ``kubeform get events`` and ``describe`` show it.

Both the reconciler (Scheduled, FailedScheduling) and the agents (Pulling, Pulled, Created,
Started, Killing, BackOff, Unhealthy, ...) record events. They are stored as the real
apiserver stores them, at ``/registry/events/<namespace>/<name>``, and bound to an etcd
lease of ``EVENT_TTL`` seconds so they expire by themselves (the apiserver's --event-ttl,
one hour by default). Pure: the caller supplies the time and a unique suffix.
"""

import datetime
from typing import Any, Dict, Tuple

EVENT_PREFIX = "/registry/events/"
EVENT_TTL = 3600

NORMAL = "Normal"
WARNING = "Warning"


def rfc3339(now: datetime.datetime) -> str:
    """UTC seconds precision, as Kubernetes' metav1.Time prints it."""
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_key(namespace: str, name: str) -> str:
    return EVENT_PREFIX + namespace + "/" + name


def make_event(
    involved: Dict[str, Any],
    reason: str,
    message: str,
    now: datetime.datetime,
    suffix: str,
    event_type: str = NORMAL,
    component: str = "kubeform",
    host: str = "",
    field_path: str = "",
) -> Tuple[str, Dict[str, Any]]:
    """The etcd key and the v1 Event about ``involved`` (a stored object with metadata).

    ``suffix`` makes the name unique (kubectl shows ``<object>.<hex>``); the caller draws it
    (a clock or uuid never lives inside a pure function).
    """
    meta = involved.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    name = "%s.%s" % (meta.get("name", ""), suffix)
    ref = {
        "apiVersion": involved.get("apiVersion", "v1"),
        "kind": involved.get("kind", ""),
        "namespace": namespace,
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
    }
    if field_path:
        ref["fieldPath"] = field_path
    stamp = rfc3339(now)
    source = {"component": component}  # type: Dict[str, Any]
    if host:
        source["host"] = host
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": stamp},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "type": event_type,
        "source": source,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
    return event_key(namespace, name), event
