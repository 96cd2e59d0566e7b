"""Turning objects into what a person reads: YAML, unified diffs, kubectl-like tables.

Pure functions of data so each output format is tested with plain cases. Secret values
never leave this module in clear unless asked (``show_secrets``): they become a short
hash and a length, enough to see *that* a value changed without revealing it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import difflib
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from kubeform.api import selectors
from kubeform.store import pod_status

Obj = dict[str, Any]


# Control characters (ESC sequences that recolour, retitle or clear the terminal, bells,
# carriage returns that overwrite a line) as visible escapes, as kubectl describe does.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escape_terminal(text: str, keep: str = "\n\t") -> str:
    """``text`` with every control character but those in ``keep`` shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else f"\\x{ord(m.group()):02x}", text)


# -- secrets -------------------------------------------------------------------------
def secret_digest(value: str, key: bytes | None = None) -> str:
    """``<secret sha256:0123abcd len 12>`` for a base64 value (length of the decoded bytes).

    With ``key`` (the CLI passes one derived from the cluster CA key) the hash is an
    HMAC-SHA256: a plain hash of a short secret such as ``admin`` is found in any lookup
    table, a keyed one is not, yet it stays stable so a change is still visible.
    """
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = value.encode()
    digest = hmac.new(key, raw, hashlib.sha256).hexdigest() if key is not None else hashlib.sha256(raw).hexdigest()
    return f"<secret sha256:{digest[:12]} len {len(raw)}>"


def mask(obj: Obj | None, show_secrets: bool = False, digest_key: bytes | None = None) -> Obj | None:
    """A copy of a Secret with data/stringData values replaced by digests."""
    if obj is None or show_secrets or obj.get("kind") != "Secret":
        return obj
    out = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(obj.get(key), dict):
            vals = obj[key]
            enc = (lambda v: v) if key == "data" else (lambda v: base64.b64encode(str(v).encode()).decode())
            out[key] = {k: secret_digest(enc(v), digest_key) for k, v in vals.items()}
    return out


# -- yaml / json ---------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Block-style YAML with indented lists, like kubectl prints."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2) + "\n"


# -- diff ----------------------------------------------------------------------------
TOP_ORDER = ("apiVersion", "kind", "metadata", "type", "spec", "data", "stringData", "status")


def canonical(value: Any, top: bool = True) -> Any:
    """Keys in a stable order (kubectl's top-level order, then sorted), so a diff shows
    only real changes, never a reordering."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (TOP_ORDER.index(k), "") if top and k in TOP_ORDER else (99, str(k)))
        return {k: canonical(value[k], False) for k in keys}
    if isinstance(value, list):
        return [canonical(v, False) for v in value]
    return value


def diff_text(
    live: Obj | None, desired: Obj | None, name: str, *, show_secrets: bool = False, digest_key: bytes | None = None
) -> str:
    """Unified YAML diff of live vs what apply would store ('' when equal)."""
    before = to_yaml(canonical(mask(live, show_secrets, digest_key))) if live is not None else ""
    after = to_yaml(canonical(mask(desired, show_secrets, digest_key))) if desired is not None else ""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"live/{name}",
        tofile=f"desired/{name}",
    )
    return "".join(lines)


# -- tables --------------------------------------------------------------------------
def _time(ts: Any) -> datetime.datetime | None:
    if not isinstance(ts, str) or not ts:
        return None
    try:
        t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.UTC)


def age(ts: str | None, now: datetime.datetime) -> str:
    """kubectl's AGE (translateTimestampSince): HumanDuration, e.g. 45s, 5m30s, 90m, 3h20m, 5d."""
    then = _time(ts)
    if then is None:
        return "<unknown>"
    return pod_status.human_duration((now - then).total_seconds())


def _duration_between(start: str | None, end: str | None, now: datetime.datetime) -> str:
    """A Job's DURATION: end - start when finished, now - start while running, '' before."""
    begun = _time(start)
    if begun is None:
        return ""
    finished = _time(end) or now
    return pod_status.human_duration((finished - begun).total_seconds())


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by three spaces, as kubectl prints them."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    fmt_last = len(headers) - 1
    out = []
    for row in (headers, *rows):
        out.append("   ".join(c.ljust(widths[i]) if i < fmt_last else c for i, c in enumerate(row)).rstrip())
    return "\n".join(out) + "\n"


def _status(obj: Obj) -> Obj:
    s = obj.get("status")
    return s if isinstance(s, dict) else {}


def _int(v: Any) -> int:
    return v if isinstance(v, int) else 0


def _containers(obj: Obj) -> list[Obj]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return list(spec.get("containers") or [])
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return list(((spec.get("template") or {}).get("spec") or {}).get("containers") or [])


def _wide_containers(obj: Obj) -> list[str]:
    cs = _containers(obj)
    return [",".join(str(c.get("name")) for c in cs), ",".join(str(c.get("image")) for c in cs)]


def format_labels(labels: Any) -> str:
    """kubectl's labels.FormatLabels: sorted ``k=v`` pairs joined by commas, ``<none>`` if none."""
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def _has_condition(o: Obj, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in _status(o).get("conditions") or [])


def job_status(o: Obj) -> str:
    """kubectl's Job STATUS: Complete, Failed, Terminating, Suspended, FailureTarget, else Running."""
    if _has_condition(o, "Complete"):
        return "Complete"
    if _has_condition(o, "Failed"):
        return "Failed"
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    for cond in ("Suspended", "FailureTarget"):
        if _has_condition(o, cond):
            return cond
    return "Running"


def job_completions(o: Obj) -> str:
    """kubectl's COMPLETIONS: ``1/3``; without spec.completions ``0/1`` or ``0/1 of 4`` (parallel)."""
    spec: Obj = o["spec"] if isinstance(o.get("spec"), dict) else {}
    succeeded = _int(_status(o).get("succeeded"))
    if isinstance(spec.get("completions"), int):
        return f"{succeeded}/{spec['completions']}"
    parallelism = _int(spec.get("parallelism"))
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def service_cluster_ip(spec: Obj) -> str:
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return str(ips[0]) if ips else "<none>"


def service_external_ip(o: Obj) -> str:
    """kubectl's EXTERNAL-IP by type: externalIPs, a LoadBalancer's ingress (``<pending>``
    before one), an ExternalName's name; ``<none>`` otherwise."""
    spec: Obj = o["spec"] if isinstance(o.get("spec"), dict) else {}
    kind = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "LoadBalancer":
        ingress = ((_status(o).get("loadBalancer") or {}).get("ingress")) or []
        lb = sorted({str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")})
        lb_text = ",".join(lb)
        if len(lb_text) > 16:  # kubectl clips it outside -o wide; the wide caller passes the whole
            lb_text = lb_text[:13] + "..."
        return ",".join([*([lb_text] if lb_text else []), *external]) or "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName") or "")
    return "<unknown>"


def _job_selector(spec: Obj) -> str:
    sel = spec.get("selector")
    if not isinstance(sel, dict) or not sel:
        return "<none>"
    return selectors.format_selector(selectors.from_label_selector(sel)) or "<none>"


def _selector_str(obj: Obj) -> str:
    sel = selectors.of_object(obj)
    return selectors.format_selector(sel) if sel else "<none>"


def _pod_row(o: Obj, wide: bool, now: datetime.datetime) -> tuple[list[str], list[str]]:
    """kubectl's pod columns (pod_status.py): READY STATUS RESTARTS, wide IP NODE ..."""
    return pod_status.pod_columns(o, now), pod_status.pod_wide(o) if wide else []


def _phase(o: Obj) -> str:
    """A volume's or claim's phase, Terminating once deleted (as kubectl shows it)."""
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return str(_status(o).get("phase") or "Pending")


def _bool_ptr(value: Any) -> str:
    """kubectl's printBoolPtr: ``<unset>`` for nil, else True/False."""
    return "<unset>" if value is None else str(bool(value))


def _ports(spec: Obj) -> str:
    parts = []
    for p in spec.get("ports") or []:
        s = str(p.get("port"))
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        parts.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _hpa_targets(o: Obj) -> str:
    """kubectl's TARGETS: ``cpu: 40%/50%``, ``memory: 157286400/100Mi``, ``<unknown>``
    before a measure; currentMetrics[i] belongs to metrics[i]; two shown, then ``+ N more...``."""
    specs = (o.get("spec") or {}).get("metrics") or []
    if not specs:
        return "<none>"
    statuses = _status(o).get("currentMetrics") or []
    out = []
    for i, m in enumerate(specs):
        mtype = m.get("type")
        st = statuses[i] if i < len(statuses) and isinstance(statuses[i], dict) else {}
        if mtype in ("Resource", "ContainerResource"):
            field = "resource" if mtype == "Resource" else "containerResource"
            src, cur = m.get(field) or {}, ((st.get(field) or {}).get("current") or {})
            target = src.get("target") or {}
            if target.get("averageValue") is not None:
                out.append(f"{src.get('name')}: {cur.get('averageValue', '<unknown>')}/{target['averageValue']}")
            else:
                now = f"{cur['averageUtilization']}%" if cur.get("averageUtilization") is not None else "<unknown>"
                want = f"{target['averageUtilization']}%" if target.get("averageUtilization") is not None else "<auto>"
                out.append(f"{src.get('name')}: {now}/{want}")
        elif mtype in ("Pods", "Object", "External"):
            field = mtype.lower()
            target = (m.get(field) or {}).get("target") or {}
            cur = ((st.get(field) or {}).get("current") or {})
            value = target.get("averageValue", target.get("value"))
            now = cur.get("averageValue", cur.get("value", "<unknown>"))
            out.append(f"{now}/{value}" + (" (avg)" if mtype != "Pods" and "averageValue" in target else ""))
        else:
            out.append("<unknown type>")
    if len(out) > 2:
        return f"{', '.join(out[:2])} + {len(out) - 2} more..."
    return ", ".join(out)


ACCESS_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def _access_modes(modes: Sequence[str]) -> str:
    """kubectl's short form: RWO,ROX."""
    return ",".join(ACCESS_MODES.get(str(m), str(m)) for m in modes)


def _claim_of(spec: Obj) -> str:
    ref = spec.get("claimRef") or {}
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref.get("name") else ""


def _controller_of(o: Obj) -> str:
    for ref in (o.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{str(ref.get('kind', '')).lower()}.{str(ref.get('apiVersion', '')).split('/')[0]}/{ref.get('name')}"
    return "<none>"


Columns = tuple[list[str], Callable[[Obj, bool], tuple[list[str], list[str]]], list[str]]


def endpoints_summary(obj: Obj, shown: int = 3) -> str:
    """kubectl's ENDPOINTS cell: ``10.244.1.5:80,10.244.2.3:80 + 1 more...`` (ready only)."""
    pairs = []
    for subset in obj.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for address in subset.get("addresses") or []:
            for port in ports:
                ip = str(address.get("ip", ""))
                pairs.append(f"{ip}:{port['port']}" if "port" in port else ip)
    if not pairs:
        return "<none>"
    more = f" + {len(pairs) - shown} more..." if len(pairs) > shown else ""
    return ",".join(pairs[:shown]) + more


def _columns(kind: str, now: datetime.datetime | None = None) -> Columns:
    """(headers, row function, wide headers) per kind; NAME and AGE are added around.
    ``now`` is for columns that show a time (a pod's last restart)."""
    def spec(o: Obj) -> Obj:
        s = o.get("spec")
        return s if isinstance(s, dict) else {}

    wide_c = ["CONTAINERS", "IMAGES", "SELECTOR"]
    if kind == "Pod":
        at = now or datetime.datetime.now(datetime.UTC)
        return (
            ["READY", "STATUS", "RESTARTS"],
            lambda o, w: _pod_row(o, w, at),
            ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        )
    if kind == "Deployment":
        return (
            ["READY", "UP-TO-DATE", "AVAILABLE"],
            lambda o, w: (
                [f"{_int(_status(o).get('readyReplicas'))}/{_int(spec(o).get('replicas'))}",
                 str(_int(_status(o).get("updatedReplicas"))), str(_int(_status(o).get("availableReplicas")))],
                [*_wide_containers(o), _selector_str(o)] if w else [],
            ),
            wide_c,
        )
    if kind in ("ReplicaSet", "ReplicationController"):
        return (
            ["DESIRED", "CURRENT", "READY"],
            lambda o, w: (
                [str(_int(spec(o).get("replicas"))), str(_int(_status(o).get("replicas"))),
                 str(_int(_status(o).get("readyReplicas")))],
                [*_wide_containers(o), _selector_str(o)] if w else [],
            ),
            wide_c,
        )
    if kind == "DaemonSet":
        return (
            ["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR"],
            lambda o, w: (
                [str(_int(_status(o).get(k))) for k in ("desiredNumberScheduled", "currentNumberScheduled",
                 "numberReady", "updatedNumberScheduled", "numberAvailable")]
                + [format_labels(((spec(o).get("template") or {}).get("spec") or {}).get("nodeSelector"))],
                [*_wide_containers(o), _selector_str(o)] if w else [],
            ),
            wide_c,
        )
    if kind == "StatefulSet":
        return (
            ["READY"],
            lambda o, w: ([f"{_int(_status(o).get('readyReplicas'))}/{_int(spec(o).get('replicas'))}"],
                          _wide_containers(o) if w else []),
            ["CONTAINERS", "IMAGES"],
        )
    if kind == "ControllerRevision":
        return (
            ["CONTROLLER", "REVISION"],
            lambda o, w: ([_controller_of(o), str(o.get("revision", ""))], []),
            [],
        )
    if kind == "PersistentVolumeClaim":
        return (
            ["STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS"],
            lambda o, w: ([_phase(o), str(spec(o).get("volumeName") or ""),
                           str((_status(o).get("capacity") or {}).get("storage") or "") if spec(o).get("volumeName") else "",
                           _access_modes(_status(o).get("accessModes") or []) if spec(o).get("volumeName") else "",
                           str(spec(o).get("storageClassName") or ""),
                           str(spec(o).get("volumeAttributesClassName") or "<unset>")],
                          [str(spec(o).get("volumeMode") or "<unset>")] if w else []),
            ["VOLUMEMODE"],
        )
    if kind == "PersistentVolume":
        return (
            ["CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS",
             "VOLUMEATTRIBUTESCLASS", "REASON"],
            lambda o, w: ([str((spec(o).get("capacity") or {}).get("storage") or ""),
                           _access_modes(spec(o).get("accessModes") or []),
                           str(spec(o).get("persistentVolumeReclaimPolicy") or "Retain"),
                           _phase(o), _claim_of(spec(o)),
                           str(spec(o).get("storageClassName") or ""),
                           str(spec(o).get("volumeAttributesClassName") or "<unset>"),
                           str(_status(o).get("reason") or "")],
                          [str(spec(o).get("volumeMode") or "<unset>")] if w else []),
            ["VOLUMEMODE"],
        )
    if kind == "StorageClass":
        return (
            ["PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION"],
            lambda o, w: ([str(o.get("provisioner") or ""), str(o.get("reclaimPolicy") or "Delete"),
                           str(o.get("volumeBindingMode") or "Immediate"),
                           str(bool(o.get("allowVolumeExpansion"))).lower()], []),
            [],
        )
    if kind == "Job":
        clock = now or datetime.datetime.now(datetime.UTC)
        return (
            ["STATUS", "COMPLETIONS", "DURATION"],
            lambda o, w: ([job_status(o), job_completions(o),
                           _duration_between(_status(o).get("startTime"), _status(o).get("completionTime"), clock)],
                          [*_wide_containers(o), _job_selector(spec(o))] if w else []),
            wide_c,
        )
    if kind == "CronJob":
        clock = now or datetime.datetime.now(datetime.UTC)
        return (
            ["SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE"],
            lambda o, w: ([str(spec(o).get("schedule")), str(spec(o).get("timeZone") or "<none>"),
                           _bool_ptr(spec(o).get("suspend")), str(len(_status(o).get("active") or [])),
                           age(_status(o).get("lastScheduleTime"), clock) if _status(o).get("lastScheduleTime") else "<none>"],
                          [*_wide_containers(o), _job_selector(((spec(o).get("jobTemplate") or {}).get("spec")) or {})]
                          if w else []),
            wide_c,
        )
    if kind == "Service":
        return (
            ["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"],
            lambda o, w: ([str(spec(o).get("type", "ClusterIP")), service_cluster_ip(spec(o)),
                           service_external_ip(o), _ports(spec(o))],
                          [format_labels(spec(o).get("selector"))] if w else []),
            ["SELECTOR"],
        )
    if kind == "Endpoints":
        return (["ENDPOINTS"], lambda o, w: ([endpoints_summary(o)], []), [])
    if kind == "ConfigMap":
        return (["DATA"], lambda o, w: ([str(len(o.get("data") or {}) + len(o.get("binaryData") or {}))], []), [])
    if kind == "Secret":
        return (["TYPE", "DATA"], lambda o, w: ([str(o.get("type", "Opaque")), str(len(o.get("data") or {}))], []), [])
    if kind == "Namespace":
        return (["STATUS"], lambda o, w: ([str(_status(o).get("phase", "Active"))], []), [])
    if kind == "HorizontalPodAutoscaler":
        return (
            ["REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS"],
            lambda o, w: ([f"{spec(o).get('scaleTargetRef', {}).get('kind')}/{spec(o).get('scaleTargetRef', {}).get('name')}",
                           _hpa_targets(o), str(spec(o).get("minReplicas", "<unset>")), str(spec(o).get("maxReplicas")),
                           str(_int(_status(o).get("currentReplicas")))], []),
            [],
        )
    if kind == "Node":
        return (
            ["STATUS", "ROLES", "SUBNET", "KERNEL"],
            lambda o, w: ([node_status(o), node_roles(o), str(spec(o).get("podCIDR") or "<none>"),
                           str((_status(o).get("nodeInfo") or {}).get("kernelVersion") or "<unknown>")],
                          [node_address(o)] if w else []),
            ["INTERNAL-IP"],
        )
    if kind == "Event":
        return (
            ["TYPE", "REASON", "OBJECT", "MESSAGE"],
            lambda o, w: ([str(o.get("type") or ""), str(o.get("reason") or ""), event_object(o),
                           str(o.get("message") or "").strip()], []),
            [],
        )
    return [], lambda o, w: ([], []), []


def node_roles(o: Obj) -> str:
    """Roles from node-role.kubernetes.io/<role> labels, as kubectl shows them."""
    labels = (o.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    return ",".join(roles) or "<none>"


def node_status(o: Obj) -> str:
    """Ready / NotReady from the Ready condition (set by the store from the lease)."""
    for cond in _status(o).get("conditions") or []:
        if cond.get("type") == "Ready":
            ready = "Ready" if cond.get("status") == "True" else "NotReady"
            if (o.get("spec") or {}).get("unschedulable"):
                ready += ",SchedulingDisabled"
            return ready
    return "Unknown"


def node_address(o: Obj) -> str:
    for a in _status(o).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return str(a.get("address"))
    return "<none>"


DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class")


def is_default_class(o: Obj) -> bool:
    """A StorageClass marked default, which kubectl names ``standard (default)``."""
    annotations = (o.get("metadata") or {}).get("annotations") or {}
    return any(annotations.get(k) == "true" for k in DEFAULT_CLASS_ANNOTATIONS)


@dataclasses.dataclass(frozen=True)
class TableOptions:
    """kubectl get's table flags: ``-L KEY`` label columns, ``--show-labels``, ``--no-headers``."""

    label_columns: tuple[str, ...] = ()
    show_labels: bool = False
    no_headers: bool = False


def label_header(key: str) -> str:
    """kubectl's -L header: the key's name part, upper-cased (``app.kubernetes.io/name`` -> NAME)."""
    return key.rsplit("/", 1)[-1].upper()


def get_table(
    kind: str, objs: Sequence[Obj], *, wide: bool, all_namespaces: bool, now: datetime.datetime, name_prefix: str = "",
    options: TableOptions = TableOptions(),
) -> str:
    """The ``kubeform get`` table for objects of one kind (``name_prefix``: ``pod/`` when
    several kinds are listed, as kubectl names them); -L columns and LABELS come last."""
    headers, row_fn, wide_headers = _columns(kind, now)
    head = (["NAMESPACE"] if all_namespaces else []) + ["NAME", *headers, "AGE"] + (wide_headers if wide else [])
    head += [label_header(k) for k in options.label_columns] + (["LABELS"] if options.show_labels else [])
    rows = []
    for o in objs:
        meta = o.get("metadata") or {}
        cells, extra = row_fn(o, wide)
        ns = [str(meta.get("namespace", ""))] if all_namespaces else []
        name = name_prefix + str(meta.get("name"))
        if kind == "StorageClass" and is_default_class(o):
            name += " (default)"
        labels: Obj = meta["labels"] if isinstance(meta.get("labels"), dict) else {}
        decorations = [str(labels.get(k, "")) for k in options.label_columns]
        if options.show_labels:
            decorations.append(format_labels(labels))
        rows.append([*ns, name, *cells, age(meta.get("creationTimestamp"), now), *extra, *decorations])
    if options.no_headers:  # widths from the rows alone, as kubectl's tabwriter sees them
        return "".join(table([""] * len(head), rows).splitlines(keepends=True)[1:])
    return table(head, rows)


def sort_key(expr: str) -> Callable[[Obj], tuple[int, Any]]:
    """``--sort-by``'s key: the value a JSONPath finds (numbers as numbers, quantities and
    timestamps as text); objects without it first, as kubectl orders them."""
    from kubeform.store import jsonpath

    nodes = jsonpath.parse(jsonpath.relaxed(expr))
    if len(nodes) != 1 or not isinstance(nodes[0], jsonpath.Path):
        raise jsonpath.JSONPathError(f"--sort-by needs one field path, got {expr!r}")
    steps = nodes[0].steps

    def key(o: Obj) -> tuple[int, Any]:
        found = jsonpath.walk(o, steps)
        if not found:
            return (0, "")
        value = found[0]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return (2, jsonpath.text_of(value))
        return (1, value)

    return key


# -- events --------------------------------------------------------------------------
def event_object(o: Obj) -> str:
    """kubectl's OBJECT column: ``pod/web`` (lower-case kind / name)."""
    ref = o.get("involvedObject") or {}
    kind = str(ref.get("kind") or "").lower()
    return f"{kind}/{ref['name']}" if ref.get("name") else kind


def _event_times(o: Obj) -> tuple[str, str]:
    """(first, last) timestamps; a missing last falls back to first, then eventTime."""
    first = o.get("firstTimestamp") or o.get("eventTime") or (o.get("metadata") or {}).get("creationTimestamp")
    last = o.get("lastTimestamp") or first
    return str(first or ""), str(last or "")


def sort_events(objs: Sequence[Obj]) -> list[Obj]:
    """Oldest first by lastTimestamp, as kubectl describe lists them (then by name)."""
    return sorted(objs, key=lambda o: (_event_times(o)[1], str((o.get("metadata") or {}).get("name"))))


def events_table(
    objs: Sequence[Obj], *, wide: bool, all_namespaces: bool, now: datetime.datetime, keep_order: bool = False
) -> str:
    """``kubeform get events``: LAST SEEN TYPE REASON OBJECT MESSAGE, by lastTimestamp.

    kubectl's layout: no NAME or AGE; -o wide adds SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME.
    """
    head = ["NAMESPACE"] if all_namespaces else []
    if wide:
        head += ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"]
    else:
        head += ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = []
    for o in (list(objs) if keep_order else sort_events(objs)):  # keep_order: as --sort-by put them
        meta = o.get("metadata") or {}
        first, last = _event_times(o)
        row = [str(meta.get("namespace", ""))] if all_namespaces else []
        row += [age(last, now), str(o.get("type") or ""), str(o.get("reason") or ""), event_object(o)]
        message = str(o.get("message") or "").strip()
        if wide:
            source = o.get("source") or {}
            row += [str((o.get("involvedObject") or {}).get("fieldPath") or ""), _event_source(source), message,
                    age(first, now), str(o.get("count") or 1), str(meta.get("name", ""))]
        else:
            row.append(message)
        rows.append(row)
    return table(head, rows)


def _event_source(source: Obj) -> str:
    component = str(source.get("component") or "")
    host = str(source.get("host") or "")
    if not component:
        return "<unknown>"
    return f"{component}, {host}" if host else component


def involves(event: Obj, obj: Obj) -> bool:
    """Whether ``event`` is about ``obj`` (kind, namespace, name, and uid when both have one)."""
    ref = event.get("involvedObject") or {}
    meta = obj.get("metadata") or {}
    if ref.get("kind") != obj.get("kind") or ref.get("name") != meta.get("name"):
        return False
    if meta.get("namespace") and (ref.get("namespace") or "default") != meta.get("namespace"):
        return False
    return not (ref.get("uid") and meta.get("uid") and ref.get("uid") != meta.get("uid"))


def events_section(events: Sequence[Obj], now: datetime.datetime) -> str:
    """The Events block that ends ``describe``, in kubectl's layout (Type Reason Age From Message)."""
    if not events:
        return "Events:       <none>\n"
    rows = []
    for o in sort_events(events):
        first, last = _event_times(o)
        count = _int(o.get("count")) or 1
        when = age(last, now)
        if count > 1:
            when = f"{when} (x{count} over {age(first, now)})"
        rows.append([str(o.get("type") or ""), str(o.get("reason") or ""), when,
                     str((o.get("source") or {}).get("component") or "<unknown>"), str(o.get("message") or "").strip()])
    head = ["Type", "Reason", "Age", "From", "Message"]
    rule = ["----", "------", "----", "----", "-------"]
    widths = [max(len(r[i]) for r in [head, rule, *rows]) for i in range(4)]
    lines = ["  " + "  ".join(c.ljust(widths[i]) if i < 4 else c for i, c in enumerate(r)).rstrip() for r in [head, rule, *rows]]
    return "Events:\n" + "\n".join(lines) + "\n"
