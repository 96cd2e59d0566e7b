"""The reconciler's config file (/etc/kubeform/reconciler.json), checked at start.

Why: a mistake in the file stops the daemon at once with one line naming the field
(systemd shows it), instead of a traceback later. Same etcd block as the agent's.
"""

import socket
from typing import Any, Dict, List

from kubeform.api.daemonconfig import (
    ConfigError,
    etcd_settings,
    number,
    read_object,
    refuse_unknown,
)

__all__ = ["ConfigError", "ReconcilerConfig", "load_config"]


KNOWN_FIELDS = {"node_name", "etcd", "lease_ttl", "renew_seconds", "pod_eviction_seconds", "local_volume_root"}
#: How long pods tolerate a not-ready or unreachable node by default (upstream: 300 s).
DEFAULT_POD_EVICTION_SECONDS = 2
#: Where the local-path provisioner puts its volumes (one directory per claim, on the node).
DEFAULT_LOCAL_VOLUME_ROOT = "/var/lib/kubeform/volumes"


class ReconcilerConfig(object):
    """Every setting the reconciler reads, with its default."""

    def __init__(self, raw: Dict[str, Any], path: str = "<config>") -> None:
        self.path = path
        refuse_unknown(raw, KNOWN_FIELDS, path)
        self.node_name = raw.get("node_name") or socket.gethostname().split(".")[0]
        if not isinstance(self.node_name, str):
            raise ConfigError("%s: field 'node_name' must be a string" % path)
        etcd = etcd_settings(raw, path)
        self.etcd_endpoints: List[str] = etcd.endpoints
        self.etcd_ca = etcd.ca_file
        self.etcd_cert = etcd.cert_file
        self.etcd_key = etcd.key_file
        self.lease_ttl = number(raw, "lease_ttl", path, 10)
        self.renew_seconds = number(raw, "renew_seconds", path, 2)
        self.pod_eviction_seconds = number(raw, "pod_eviction_seconds", path, DEFAULT_POD_EVICTION_SECONDS, strict=False)
        if self.renew_seconds * 2 > self.lease_ttl:
            raise ConfigError("%s: field 'renew_seconds' must be at most half of lease_ttl" % path)
        root = raw.get("local_volume_root", DEFAULT_LOCAL_VOLUME_ROOT)
        if not isinstance(root, str) or not root.startswith("/") or root.rstrip("/") == "" or ".." in root.split("/"):
            raise ConfigError("%s: field 'local_volume_root' must be an absolute path other than /, without '..'" % path)
        self.local_volume_root = root.rstrip("/")


def load_config(path: str) -> ReconcilerConfig:
    return ReconcilerConfig(read_object(path), path)
