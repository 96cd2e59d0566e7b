"""The service map as DNS records: a hosts file dnsmasq serves (its --addn-hosts).

Why a hosts file: dnsmasq re-reads it on SIGHUP without a restart (no query is lost), it
needs no zone syntax, and several lines with one name make one answer with every
address, which is what a headless Service needs. Kubernetes' DNS spec, the A records:

- ``<svc>.<ns>.svc.<domain>`` -> the ClusterIP (a Service with one);
- a headless Service (clusterIP None) -> every ready pod IP behind it;
- ``<hostname>.<svc>.<ns>.svc.<domain>`` -> that pod's IP, for pods named under the
  Service (StatefulSet pods: spec.hostname + spec.subdomain).

And the CNAMEs (an ExternalName Service): ``<svc>.<ns>.svc.<domain>`` -> its
spec.externalName, as dnsmasq ``cname=`` lines in a file of their own (dnsmasq reads
cname= only when it starts, not on SIGHUP: the agent restarts it when that file changes,
which happens only when an ExternalName Service comes, goes or changes target). A
target that is not a valid DNS name, or a CNAME loop (which makes dnsmasq refuse to
start), is left out: one bad Service never takes the node's DNS down.

Pure: entries in, text out (sorted, so an unchanged map writes the same bytes and the
agent neither rewrites the file nor signals dnsmasq).
"""

import re
from typing import Any, Dict, List, Optional, Set, Tuple

from kubeform.api import servicemap

HEADER = "# kubeform cluster DNS records, written by the agent from the service map (do not edit)\n"
CNAME_HEADER = "# kubeform cluster DNS CNAMEs (ExternalName Services), written by the agent from the service map (do not edit)\n"

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def records(entries: List[Dict[str, Any]], domain: str) -> List[Tuple[str, str]]:
    """(name, ip) pairs, sorted by name then ip, each once."""
    out = set()  # type: Set[Tuple[str, str]]
    for entry in entries:
        ns, name = entry.get("namespace"), entry.get("name")
        if not ns or not name:
            continue
        fqdn = "%s.%s.svc.%s" % (name, ns, domain)
        if entry.get("type") == "ExternalName":
            continue  # a CNAME (cnames()), never an address
        if servicemap.is_headless(entry):
            for ip in servicemap.ready_ips(entry):
                out.add((fqdn, ip))
        else:
            out.add((fqdn, str(entry["clusterIP"])))
        for addr in entry.get("addresses") or []:
            if addr.get("hostname") and addr.get("ip"):
                out.add(("%s.%s" % (addr["hostname"], fqdn), str(addr["ip"])))
    return sorted(out)


def hosts_text(entries: List[Dict[str, Any]], domain: str) -> str:
    return HEADER + "".join("%s %s\n" % (ip, name) for name, ip in records(entries, domain))


def is_dns_name(name: str) -> bool:
    """A name dnsmasq takes in cname=: lowercase LDH labels, 253 characters at most."""
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def cnames(entries: List[Dict[str, Any]], domain: str) -> List[Tuple[str, str]]:
    """(alias, target) pairs of the ExternalName Services, sorted, without bad targets
    or loops (a chain through another ExternalName Service is kept: dnsmasq follows it)."""
    pairs = {}  # type: Dict[str, str]
    for entry in entries:
        ns, name = entry.get("namespace"), entry.get("name")
        target = servicemap.external_name(entry.get("externalName"))
        if entry.get("type") != "ExternalName" or not ns or not name or not is_dns_name(target):
            continue
        pairs["%s.%s.svc.%s" % (name, ns, domain)] = target
    return sorted((alias, target) for alias, target in pairs.items() if _loop(alias, pairs) is None)


def _loop(alias: str, pairs: Dict[str, str]) -> Optional[str]:
    """The name where following alias's chain comes back on itself, None if it ends."""
    seen = set()  # type: Set[str]
    name = alias
    while name in pairs:
        if name in seen:
            return name
        seen.add(name)
        name = pairs[name]
    return None


def cname_text(entries: List[Dict[str, Any]], domain: str) -> str:
    return CNAME_HEADER + "".join("cname=%s,%s\n" % pair for pair in cnames(entries, domain))
