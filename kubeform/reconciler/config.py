"""The reconciler's config file (/etc/kubeform/reconciler.json), checked at start.

Why: a mistake in the file stops the daemon at once with one line naming the field
(systemd shows it), instead of a traceback later. Same etcd block as the agent's.
"""

import json
import socket
from typing import Any, Dict, List


class ConfigError(Exception):
    """The config file is missing, not JSON, or a field is wrong (the message names it)."""


KNOWN_FIELDS = {"node_name", "etcd", "lease_ttl", "renew_seconds", "pod_eviction_seconds", "local_volume_root"}
#: How long pods tolerate a not-ready or unreachable node by default (upstream: 300 s).
DEFAULT_POD_EVICTION_SECONDS = 2
#: Where the local-path provisioner puts its volumes (one directory per claim, on the node).
DEFAULT_LOCAL_VOLUME_ROOT = "/var/lib/kubeform/volumes"


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
        etcd = raw.get("etcd")
        if not isinstance(etcd, dict):
            raise ConfigError("%s: field 'etcd' must be an object with endpoints, ca_file, cert_file, key_file" % path)
        endpoints = etcd.get("endpoints")
        if not isinstance(endpoints, list) or not endpoints or not all(
            isinstance(e, str) and (e.startswith("https://") or e.startswith("http://")) for e in endpoints
        ):
            raise ConfigError("%s: field 'etcd.endpoints' must list http(s) URLs" % path)
        self.etcd_endpoints: List[str] = list(endpoints)
        for name in ("ca_file", "cert_file", "key_file"):
            value = etcd.get(name)
            if value is not None and not isinstance(value, str):
                raise ConfigError("%s: field 'etcd.%s' must be a string" % (path, name))
        self.etcd_ca = etcd.get("ca_file")
        self.etcd_cert = etcd.get("cert_file")
        self.etcd_key = etcd.get("key_file")
        if any(e.startswith("https://") for e in self.etcd_endpoints) and not (
            self.etcd_ca and self.etcd_cert and self.etcd_key
        ):
            raise ConfigError("%s: field 'etcd': https endpoints need ca_file, cert_file and key_file" % path)
        self.lease_ttl = _number(raw, "lease_ttl", path, 10)
        self.renew_seconds = _number(raw, "renew_seconds", path, 2)
        value = raw.get("pod_eviction_seconds", DEFAULT_POD_EVICTION_SECONDS)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError("%s: field 'pod_eviction_seconds' must be a number >= 0" % path)
        self.pod_eviction_seconds = float(value)
        if self.renew_seconds * 2 > self.lease_ttl:
            raise ConfigError("%s: field 'renew_seconds' must be at most half of lease_ttl" % path)
        root = raw.get("local_volume_root", DEFAULT_LOCAL_VOLUME_ROOT)
        if not isinstance(root, str) or not root.startswith("/") or root.rstrip("/") == "" or ".." in root.split("/"):
            raise ConfigError("%s: field 'local_volume_root' must be an absolute path other than /, without '..'" % path)
        self.local_volume_root = root.rstrip("/")


def _number(raw: Dict[str, Any], field: str, path: str, default: float) -> float:
    value = raw.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError("%s: field '%s' must be a positive number" % (path, field))
    return float(value)


def load_config(path: str) -> ReconcilerConfig:
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as exc:
        raise ConfigError("%s: cannot read: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise ConfigError("%s: not valid JSON: %s" % (path, exc)) from None
    if not isinstance(raw, dict):
        raise ConfigError("%s: must be a JSON object" % path)
    return ReconcilerConfig(raw, path)
