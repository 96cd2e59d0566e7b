"""The files a pod's containers see as /etc/hosts, /etc/resolv.conf and /etc/hostname.

Why pure: their content is a function of the pod (name, hostname, subdomain, dnsPolicy),
its IP and the node's DNS settings, written as the kubelet writes them so tools inside a
container find what they would on Kubernetes.
"""

from typing import List, NamedTuple

HOSTS_HEADER = """# Kubernetes-managed hosts file.
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
fe00::0\tip6-mcastprefix
fe00::1\tip6-allnodes
fe00::2\tip6-allrouters
"""


class HostResolv(NamedTuple):
    """The parts of a resolv.conf that matter here."""

    nameservers: List[str]
    search: List[str]
    options: List[str]


def netns_name(pod_uid: str) -> str:
    """The pod's named network namespace (/run/netns/<name>): short, unique by uid."""
    return "kf-" + pod_uid.replace("-", "")[:12]


def hosts_file(hostname: str, ip: str, subdomain: str, namespace: str, domain: str) -> str:
    """/etc/hosts: localhost lines, then the pod IP with its hostname (FQDN first if any)."""
    text = HOSTS_HEADER
    if ip:
        if subdomain:
            fqdn = "%s.%s.%s.svc.%s" % (hostname, subdomain, namespace, domain)
            text += "%s\t%s\t%s\n" % (ip, fqdn, hostname)
        else:
            text += "%s\t%s\n" % (ip, hostname)
    return text


def parse_resolv(text: str) -> HostResolv:
    servers = []  # type: List[str]
    search = []  # type: List[str]
    options = []  # type: List[str]
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]  # the last search/domain line wins, as in glibc
        elif words[0] == "options":
            options.extend(words[1:])
    return HostResolv(servers, search, options)


def resolv_conf(dns_policy: str, namespace: str, cluster_dns: str, domain: str, host: HostResolv) -> str:
    """/etc/resolv.conf for a pod (the kubelet's rules).

    ClusterFirst (the default, also ClusterFirstWithHostNet): the cluster DNS, searching the
    pod's namespace, svc and the cluster domain before the host's own search list, ndots:5.
    Default: what the host resolves with. None: empty (dnsConfig is not supported yet).
    """
    if dns_policy == "Default":
        lines = ["nameserver %s" % s for s in host.nameservers[:3]]
        if host.search:
            lines.insert(0, "search " + " ".join(host.search[:6]))
        if host.options:
            lines.append("options " + " ".join(host.options))
        return "\n".join(lines) + "\n" if lines else ""
    if dns_policy == "None":
        return ""
    search = ["%s.svc.%s" % (namespace, domain), "svc.%s" % domain, domain]
    search += [s for s in host.search if s not in search]
    return "search %s\nnameserver %s\noptions ndots:5\n" % (" ".join(search[:6]), cluster_dns)


def host_resolv_path(etc_text: str) -> str:
    """Which host file pods with dnsPolicy Default copy: systemd-resolved's stub (127.0.0.53)
    is unreachable from a pod's netns, so then its upstream list (as the kubelet does)."""
    servers = parse_resolv(etc_text).nameservers
    if servers and all(s.startswith("127.") for s in servers):
        return "/run/systemd/resolve/resolv.conf"
    return "/etc/resolv.conf"
