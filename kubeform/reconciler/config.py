"""The reconciler's config file (/etc/kubeform/reconciler.json), checked at start.

Why: a mistake in the file stops the daemon at once with one line naming the field
(systemd shows it), instead of a traceback later. Same etcd block as the agent's.
"""

import socket
from typing import Any, Dict, List

from kubeform.api.hostconfig import ConfigError, etcd_settings, read_json_object

__all__ = ["ConfigError", "ReconcilerConfig", "load_config"]


KNOWN_FIELDS = {"node_name", "etcd", "lease_ttl", "renew_seconds"}


class ReconcilerConfig(object):
    """Every setting the reconciler reads, with its default."""

    def __init__(self, raw: Dict[str, Any], path: str = "<config>") -> None:
        self.path = path
        unknown = set(raw) - KNOWN_FIELDS
        if unknown:
            raise ConfigError("%s: unknown field(s): %s" % (path, ", ".join(sorted(unknown))))
        self.node_name = raw.get("node_name") or socket.gethostname().split(".")[0]
        if not isinstance(self.node_name, str):
            raise ConfigError("%s: field 'node_name' must be a string" % path)
        etcd = etcd_settings(raw, path)
        self.etcd_endpoints: List[str] = etcd.endpoints
        self.etcd_ca, self.etcd_cert, self.etcd_key = etcd.ca, etcd.cert, etcd.key
        self.lease_ttl = _number(raw, "lease_ttl", path, 10)
        self.renew_seconds = _number(raw, "renew_seconds", path, 2)
        if self.renew_seconds * 2 > self.lease_ttl:
            raise ConfigError("%s: field 'renew_seconds' must be at most half of lease_ttl" % path)


def _number(raw: Dict[str, Any], field: str, path: str, default: float) -> float:
    value = raw.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError("%s: field '%s' must be a positive number" % (path, field))
    return float(value)


def load_config(path: str) -> ReconcilerConfig:
    return ReconcilerConfig(read_json_object(path), path)
