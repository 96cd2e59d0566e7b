"""The agent's config file (/etc/kubeform/agent.json), loaded and checked up front.

Why: a mistake in the file should stop the agent at start with one line naming the field,
not surface later as a traceback inside the loop. JSON because the agent is stdlib-only.
"""

import socket
from typing import Any, Dict

from kubeform.api.daemonconfig import ConfigError, etcd_settings, optional_string as _opt_str, read_object, refuse_unknown
from kubeform.api.daemonconfig import number as _number, string as _str, string_list as _str_list

from .flannel import DEFAULT_PREFIX
from .node import parse_taints

__all__ = ["AgentConfig", "ConfigError", "load_config"]


class AgentConfig(object):
    """Every setting the agent reads, with its default."""

    def __init__(self, raw, path="<config>"):
        # type: (Dict[str, Any], str) -> None
        self.path = path
        self.node_name = _str(raw, "node_name", path, socket.gethostname().split(".")[0])
        self.roles = _str_list(raw, "roles", path, ["worker"])
        etcd = etcd_settings(raw, path)
        self.etcd_endpoints = etcd.endpoints
        self.etcd_ca = etcd.ca_file
        self.etcd_cert = etcd.cert_file
        self.etcd_key = etcd.key_file
        self.public_ip = _opt_str(raw, "public_ip", path)
        self.interface = _opt_str(raw, "interface", path)
        self.flannel_prefix = _str(raw, "flannel_prefix", path, DEFAULT_PREFIX).rstrip("/")
        self.subnet_env = _str(raw, "subnet_env", path, "/run/flannel/subnet.env")
        self.ip_masq = bool(raw.get("ip_masq", True))
        self.netns = _opt_str(raw, "netns", path)
        self.resync_seconds = _number(raw, "resync_seconds", path, 10)
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
        self.proxy_resync_seconds = _number(raw, "proxy_resync_seconds", path, 30)
        self.nodeport_addresses = _str_list(raw, "nodeport_addresses", path, [])  # [] = public_ip
        # the ClusterIP range: routed on the node's interface when the host has no route to it
        self.service_cidr = _str(raw, "service_cidr", path, "10.96.0.0/12")
        self.dns_hosts_file = _str(raw, "dns_hosts_file", path, "/run/kubeform/dns/hosts")
        self.dns_pid_file = _str(raw, "dns_pid_file", path, "/run/kubeform/dns/dnsmasq.pid")
        # dnsmasq.conf's conf-dir: cname= lines of the ExternalName Services
        self.dns_cname_file = _str(raw, "dns_cname_file", path, "/run/kubeform/dns/conf.d/externalname.conf")
        # "key=value:Effect" or "key:Effect", registered on the Node (masters: control-plane)
        self.taints = _str_list(raw, "taints", path, [])
        refuse_unknown(raw, KNOWN_FIELDS, path)


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
    "dns_cname_file",
}


def load_config(path):
    # type: (str) -> AgentConfig
    """Read and check the config file."""
    cfg = AgentConfig(read_object(path), path)
    parse_taints(cfg.taints, path)  # a bad taint is one clear line at start, not a crash later
    return cfg
