"""The service map as DNS records: a hosts file dnsmasq serves (its --addn-hosts).

Why a hosts file: dnsmasq re-reads it on SIGHUP without a restart (no query is lost), it
needs no zone syntax, and several lines with one name make one answer with every
address, which is what a headless Service needs. Kubernetes' DNS spec, the A records:

- ``<svc>.<ns>.svc.<domain>`` -> the ClusterIP (a Service with one);
- a headless Service (clusterIP None) -> every ready pod IP behind it;
- ``<hostname>.<svc>.<ns>.svc.<domain>`` -> that pod's IP, for pods named under the
  Service (StatefulSet pods: spec.hostname + spec.subdomain).

Pure: entries in, text out (sorted, so an unchanged map writes the same bytes and the
agent neither rewrites the file nor signals dnsmasq).
"""

from typing import Any, Dict, List, Set, Tuple

from kubeform.api import servicemap

HEADER = "# kubeform cluster DNS records, written by the agent from the service map (do not edit)\n"


def records(entries: List[Dict[str, Any]], domain: str) -> List[Tuple[str, str]]:
    """(name, ip) pairs, sorted by name then ip, each once."""
    out = set()  # type: Set[Tuple[str, str]]
    for entry in entries:
        ns, name = entry.get("namespace"), entry.get("name")
        if not ns or not name:
            continue
        fqdn = "%s.%s.svc.%s" % (name, ns, domain)
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
