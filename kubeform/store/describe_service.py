"""`kubeform describe svc`: kubectl's Service lines, in kubectl's order.

Why its own layout: the Kubernetes docs' Service pages read Port/TargetPort/NodePort/
Endpoints off `kubectl describe svc`; a YAML dump of spec hides the allocated ports and
the endpoints per port. Pure: the Service and its Endpoints in, the lines out (the Events
block is added by the caller). Cases: tests/data/printers/describe_service.yaml.
"""

from __future__ import annotations

from typing import Any

from kubeform.store.printers import endpoints_summary, escape_terminal

Obj = dict[str, Any]


def _pairs(mapping: Any) -> list[str]:
    if not isinstance(mapping, dict) or not mapping:
        return ["<none>"]
    return [f"{k}={v}" for k, v in sorted(mapping.items())]


def _port_endpoints(endpoints: Obj | None, port_name: str) -> str:
    """The ready address:port pairs of one Service port (matched by port name), or <none>."""
    pairs: list[str] = []
    for subset in (endpoints or {}).get("subsets") or []:
        for port in subset.get("ports") or []:
            if str(port.get("name") or "") != port_name:
                continue
            pairs.extend(f"{a.get('ip', '')}:{port.get('port')}" for a in subset.get("addresses") or [])
    return ",".join(pairs) if pairs else "<none>"


def service_lines(svc: Obj, endpoints: Obj | None) -> list[tuple[str, str]]:
    """(label, value) rows as kubectl's describeService prints them; a label "" continues
    the previous row (a second label or annotation)."""
    meta = svc.get("metadata") or {}
    spec = svc.get("spec") or {}
    rows: list[tuple[str, str]] = [("Name", str(meta.get("name"))), ("Namespace", str(meta.get("namespace")))]
    for title, mapping in (("Labels", meta.get("labels")), ("Annotations", meta.get("annotations"))):
        values = _pairs(mapping)
        rows.append((title, values[0]))
        rows += [("", v) for v in values[1:]]
    selector = spec.get("selector")
    rows.append(("Selector", ",".join(_pairs(selector)) if selector else "<none>"))
    svc_type = str(spec.get("type") or "ClusterIP")
    rows.append(("Type", svc_type))
    if spec.get("ipFamilyPolicy"):
        rows.append(("IP Family Policy", str(spec["ipFamilyPolicy"])))
    if spec.get("ipFamilies"):
        rows.append(("IP Families", ",".join(str(f) for f in spec["ipFamilies"])))
    cluster_ip = str(spec.get("clusterIP") or "")
    if svc_type == "ExternalName":
        rows.append(("External Name", str(spec.get("externalName") or "")))
    else:
        rows.append(("IP", cluster_ip or "<none>"))
        ips = spec.get("clusterIPs") or ([cluster_ip] if cluster_ip else [])
        rows.append(("IPs", ",".join(str(i) for i in ips) or "<none>"))
    if spec.get("externalIPs"):
        rows.append(("External IPs", ",".join(str(i) for i in spec["externalIPs"])))
    ingress = [str(i.get("ip") or i.get("hostname") or "")
               for i in ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []]
    if ingress:
        rows.append(("LoadBalancer Ingress", ", ".join(ingress)))
    for port in spec.get("ports") or []:
        name = str(port.get("name") or "")
        proto = str(port.get("protocol") or "TCP")
        rows.append(("Port", f"{name or '<unset>'}  {port.get('port')}/{proto}"))
        target = port.get("targetPort", port.get("port"))
        rows.append(("TargetPort", f"{target}/{proto}"))
        if port.get("nodePort"):
            rows.append(("NodePort", f"{name or '<unset>'}  {port['nodePort']}/{proto}"))
        rows.append(("Endpoints", _port_endpoints(endpoints, name)))
    if not spec.get("ports"):  # kubectl: then every ready endpoint on one line
        rows.append(("Endpoints", endpoints_summary(endpoints or {}, shown=10**6)))
    rows.append(("Session Affinity", str(spec.get("sessionAffinity") or "None")))
    if svc_type in ("NodePort", "LoadBalancer"):
        rows.append(("External Traffic Policy", str(spec.get("externalTrafficPolicy") or "Cluster")))
    if spec.get("healthCheckNodePort"):
        rows.append(("HealthCheck NodePort", str(spec["healthCheckNodePort"])))
    return rows


def service_text(svc: Obj, endpoints: Obj | None) -> str:
    """The rows aligned as kubectl's tabwriter aligns them (longest label + 2 spaces)."""
    rows = service_lines(svc, endpoints)
    width = max(len(label) for label, _ in rows) + 3
    # one line per row: a newline in a label's value must not forge the next line
    return "".join(f"{(label + ':') if label else '':<{width}}{escape_terminal(value, keep='')}\n"
                   for label, value in rows)
