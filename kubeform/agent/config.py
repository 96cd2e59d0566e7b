"""The agent's config file (/etc/kubeform/agent.json), loaded and checked up front.

Why: a mistake in the file should stop the agent at start with one line naming the field,
not surface later as a traceback inside the loop. JSON because the agent is stdlib-only.
"""

import json
import socket
from typing import Any, Dict, List, Optional

from .flannel import DEFAULT_PREFIX


class ConfigError(Exception):
    """The config file is missing, not JSON, or a field is wrong (message names it)."""


class AgentConfig(object):
    """Every setting the agent reads, with its default."""

    def __init__(self, raw, path="<config>"):
        # type: (Dict[str, Any], str) -> None
        self.path = path
        self.node_name = _str(raw, "node_name", path, socket.gethostname().split(".")[0])
        self.roles = _str_list(raw, "roles", path, ["worker"])
        etcd = raw.get("etcd")
        if not isinstance(etcd, dict):
            raise ConfigError("%s: field 'etcd' must be an object with endpoints, ca_file, cert_file, key_file" % path)
        self.etcd_endpoints = _str_list(etcd, "endpoints", path, [])
        if not self.etcd_endpoints:
            raise ConfigError("%s: field 'etcd.endpoints' must list at least one https:// URL" % path)
        for url in self.etcd_endpoints:
            if not (url.startswith("https://") or url.startswith("http://")):
                raise ConfigError("%s: field 'etcd.endpoints': %r is not an http(s) URL" % (path, url))
        self.etcd_ca = _opt_str(etcd, "ca_file", path)
        self.etcd_cert = _opt_str(etcd, "cert_file", path)
        self.etcd_key = _opt_str(etcd, "key_file", path)
        if any(u.startswith("https://") for u in self.etcd_endpoints) and not (
            self.etcd_ca and self.etcd_cert and self.etcd_key
        ):
            raise ConfigError("%s: field 'etcd': https endpoints need ca_file, cert_file and key_file" % path)
        self.public_ip = _opt_str(raw, "public_ip", path)
        self.interface = _opt_str(raw, "interface", path)
        self.flannel_prefix = _str(raw, "flannel_prefix", path, DEFAULT_PREFIX).rstrip("/")
        self.subnet_env = _str(raw, "subnet_env", path, "/run/flannel/subnet.env")
        self.ip_masq = bool(raw.get("ip_masq", True))
        self.netns = _opt_str(raw, "netns", path)
        self.resync_seconds = float(raw.get("resync_seconds", 10))
        # node runtime (docs/runtime.md)
        self.runtime = _str(raw, "runtime", path, "crun")
        if self.runtime not in ("crun", "docker"):
            raise ConfigError("%s: field 'runtime': %r is not crun or docker" % (path, self.runtime))
        self.registry = _opt_str(raw, "registry", path) or ""  # host:port of the cluster registry
        self.registry_ca = _str(raw, "registry_ca", path, "/etc/kubeform/pki/ca.crt")
        self.state_dir = _str(raw, "state_dir", path, "/var/lib/kubeform")
        self.pod_log_dir = _str(raw, "pod_log_dir", path, "/var/log/pods")
        self.cni_conf_dir = _str(raw, "cni_conf_dir", path, "/etc/cni/net.d")
        self.cni_bin_dirs = _str_list(raw, "cni_bin_dirs", path, ["/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"])
        self.cluster_dns = _str(raw, "cluster_dns", path, "10.96.0.10")
        self.cluster_domain = _str(raw, "cluster_domain", path, "cluster.local")
        # the service proxy and node DNS (docs/services.md)
        self.proxy_mode = _str(raw, "proxy_mode", path, "iptables")
        if self.proxy_mode not in ("iptables", "ipvs", "none"):
            raise ConfigError("%s: field 'proxy_mode': %r is not iptables, ipvs or none" % (path, self.proxy_mode))
        self.proxy_resync_seconds = float(raw.get("proxy_resync_seconds", 30))
        self.nodeport_addresses = _str_list(raw, "nodeport_addresses", path, [])  # [] = public_ip
        # the ClusterIP range: routed on the node's interface when the host has no route to it
        self.service_cidr = _str(raw, "service_cidr", path, "10.96.0.0/12")
        self.dns_hosts_file = _str(raw, "dns_hosts_file", path, "/run/kubeform/dns/hosts")
        self.dns_pid_file = _str(raw, "dns_pid_file", path, "/run/kubeform/dns/dnsmasq.pid")
        # "key=value:Effect" or "key:Effect", registered on the Node (masters: control-plane)
        self.taints = _str_list(raw, "taints", path, [])
        unknown = set(raw) - KNOWN_FIELDS
        if unknown:
            raise ConfigError("%s: unknown field(s): %s" % (path, ", ".join(sorted(unknown))))


KNOWN_FIELDS = {
    "node_name",
    "roles",
    "etcd",
    "public_ip",
    "interface",
    "flannel_prefix",
    "subnet_env",
    "ip_masq",
    "netns",
    "resync_seconds",
    "runtime",
    "registry",
    "registry_ca",
    "state_dir",
    "pod_log_dir",
    "cni_conf_dir",
    "cni_bin_dirs",
    "cluster_dns",
    "cluster_domain",
    "taints",
    "proxy_mode",
    "proxy_resync_seconds",
    "nodeport_addresses",
    "service_cidr",
    "dns_hosts_file",
    "dns_pid_file",
}


def _str(raw, field, path, default):
    # type: (Dict[str, Any], str, str, str) -> str
    value = raw.get(field, default)
    if not isinstance(value, str) or not value:
        raise ConfigError("%s: field '%s' must be a non-empty string" % (path, field))
    return value


def _opt_str(raw, field, path):
    # type: (Dict[str, Any], str, str) -> Optional[str]
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError("%s: field '%s' must be a string" % (path, field))
    return value


def _str_list(raw, field, path, default):
    # type: (Dict[str, Any], str, str, List[str]) -> List[str]
    value = raw.get(field, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("%s: field '%s' must be a list of strings" % (path, field))
    return list(value)


def load_config(path):
    # type: (str) -> AgentConfig
    """Read and check the config file."""
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError as exc:
        raise ConfigError("%s: cannot read: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise ConfigError("%s: not valid JSON: %s" % (path, exc)) from None
    if not isinstance(raw, dict):
        raise ConfigError("%s: must be a JSON object" % path)
    cfg = AgentConfig(raw, path)
    from .node import parse_taints  # node.py imports ConfigError from here

    parse_taints(cfg.taints, path)  # a bad taint is one clear line at start, not a crash later
    return cfg
