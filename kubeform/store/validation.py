"""Manifest validation: JSON Schema per kind plus the rules a schema cannot say.

A mistake must be named by file, document, line and field path, and a field kubeform does
not support must be reported, not silently dropped; so unknown fields (the schemas close
every object kubeform understands) become warnings (errors with ``--strict``) and every
other violation an error. Pure: documents in, problems out.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import functools
import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema
import referencing

from kubeform import yamlsrc
from kubeform.api import cron, kinds, selectors, syntax
from kubeform.errors import UserError, cut, shorten

SCHEMA_BASE = "https://kubeform.invalid/schemas/kinds/"


@dataclass(frozen=True)
class Problem:
    """One finding about one document; ``error`` False means a warning."""

    message: str
    path: str
    line: int | None
    error: bool = True

    def as_user_error(self, file: str | None, document: int | None) -> UserError:
        return UserError(self.message, file=file, line=self.line, field=self.path or None, document=document)


def line_at(doc: Any, path: Sequence[Any]) -> int | None:
    """The line of the deepest node on ``path`` that was loaded from a file."""
    node = doc
    best = yamlsrc.line_of(doc)
    for part in path:
        try:
            child = node[part]
        except (KeyError, IndexError, TypeError):
            break  # a missing field: point at the key of the mapping it belongs in
        line = yamlsrc.line_of(node, part)
        if line:
            best = line
        node = child
    return best


@functools.cache
def _registry() -> referencing.Registry[Any]:
    """Every kind schema, addressable by $id so $refs to common.schema.json resolve."""
    reg: referencing.Registry[Any] = referencing.Registry()
    for entry in (resources.files("kubeform") / "data" / "schemas" / "kinds").iterdir():
        if entry.name.endswith(".schema.json"):
            contents = json.loads(entry.read_text(encoding="utf-8"))
            reg = reg.with_resource(contents["$id"], referencing.Resource.from_contents(contents))
    return reg


@functools.cache
def validator(kind: str) -> jsonschema.protocols.Validator:
    """A compiled validator for one kind (cached: apply validates thousands of docs)."""
    schema = _registry().contents(SCHEMA_BASE + f"{kind.lower()}.schema.json")
    cls = jsonschema.validators.validator_for(schema)
    v: jsonschema.protocols.Validator = cls(schema, registry=_registry())
    return v


def _schema_problems(doc: Mapping[str, Any], kind: str) -> list[Problem]:
    out: list[Problem] = []
    for err in validator(kind).iter_errors(doc):
        path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            known = set((err.schema.get("properties") or {}) if isinstance(err.schema, dict) else ())
            inst = err.instance if isinstance(err.instance, dict) else {}
            for extra in sorted(str(k) for k in inst if k not in known):
                p = [*path, extra]
                if kind == "Secret":
                    # A misspelled stringData would be stored and later shown in plain
                    # text: refused, as kubectl's (default) strict field validation does.
                    close = difflib.get_close_matches(extra, sorted(known), n=1)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    out.append(Problem(f"unknown field{hint}", yamlsrc.field_path(p), line_at(doc, p)))
                    continue
                out.append(
                    Problem("field not supported by kubeform (kept, but ignored)", yamlsrc.field_path(p), line_at(doc, p), False)
                )
            continue
        msg = cut(err.message, 200)
        if _is_secret_value(kind, path):
            # Never echo a Secret's value (errors end up in terminals and CI logs).
            msg = _secret_message(err)
        elif err.validator == "enum":
            msg = f"{shorten(err.instance)} is not one of {', '.join(map(str, list(err.validator_value)))}"  # type: ignore[arg-type]
        elif err.validator == "type":
            msg = f"expected {err.validator_value}, got {json_type(err.instance)} {shorten(err.instance)}"
        elif err.validator == "required":
            missing = msg.split("'")[1] if "'" in msg else msg
            path = [*path, missing]
            msg = "required field is missing"
        out.append(Problem(msg, yamlsrc.field_path(path), line_at(doc, path)))
    return out


def json_type(value: Any) -> str:
    """The JSON Schema name of a value's type (what the user wrote), not Python's."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _is_secret_value(kind: str, path: Sequence[Any]) -> bool:
    """True for a Secret's ``data``/``stringData`` values (or the maps holding them)."""
    return kind == "Secret" and bool(path) and path[0] in ("data", "stringData")


def _secret_message(err: Any) -> str:
    """A schema error about a Secret value that names what is wrong but not the value."""
    if err.validator == "type":
        return f"expected {err.validator_value}, got {json_type(err.instance)} (value not shown)"
    return f"invalid value ({err.validator} check failed; value not shown)"


def _template_labels(spec: Mapping[str, Any]) -> Mapping[str, str]:
    tmpl = spec.get("template") or {}
    return ((tmpl.get("metadata") or {}).get("labels")) or {}


def _semantic(doc: Mapping[str, Any], kind: str) -> list[Problem]:
    """Rules beyond the schema, each with the path of the field at fault."""
    out: list[Problem] = []

    def add(msg: str, *path: Any) -> None:
        out.append(Problem(msg, yamlsrc.field_path(path), line_at(doc, path)))

    meta = doc.get("metadata") or {}
    if not isinstance(meta, Mapping) or not meta.get("name"):
        add("required field is missing", "metadata", "name")
    _syntax(doc, kind, add)
    spec = doc.get("spec") or {}
    if not isinstance(spec, Mapping):
        return out
    if kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController"):
        labels = _template_labels(spec)
        sel_raw = spec.get("selector")
        try:
            sel = (
                selectors.from_map(sel_raw)
                if kind == "ReplicationController"
                else selectors.from_label_selector(sel_raw)
            )
        except UserError as err:
            add(err.message, "spec", "selector")
            sel = None
        if sel_raw is not None and sel is not None:
            if not sel and kind != "Job":
                add("empty selector would select every pod", "spec", "selector")
            elif not selectors.matches(sel, labels):
                add(
                    f"selector {selectors.format_selector(sel)!r} does not match the template's labels",
                    "spec",
                    "selector",
                )
    pod_paths: list[tuple[Any, ...]] = []
    if kind == "Pod":
        pod_paths.append(("spec",))
    elif kind == "CronJob":
        pod_paths.append(("spec", "jobTemplate", "spec", "template", "spec"))
    elif "template" in spec:
        pod_paths.append(("spec", "template", "spec"))
    for pp in pod_paths:
        pod = _dig(doc, pp)
        if not isinstance(pod, Mapping):
            continue
        names: set[str] = set()
        for i, c in enumerate([*(pod.get("initContainers") or []), *(pod.get("containers") or [])]):
            if isinstance(c, Mapping) and c.get("name") in names:
                add(f"duplicate container name {c.get('name')!r}", *pp, "containers", i, "name")
            if isinstance(c, Mapping):
                names.add(str(c.get("name")))
        if kind in ("Job", "CronJob") and pod.get("restartPolicy", "Always") == "Always":
            add("a Job's pods need restartPolicy OnFailure or Never", *pp, "restartPolicy")
        elif kind in ("Job", "CronJob") and _dig(doc, (*pp[:-2], "podFailurePolicy")) is not None and pod.get("restartPolicy") != "Never":
            add('only "Never" is supported when podFailurePolicy is specified', *pp, "restartPolicy")
        if kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "ReplicationController") and pod.get(
            "restartPolicy", "Always"
        ) != "Always":
            add("only restartPolicy Always is supported here", *pp, "restartPolicy")
    if kind == "Service":
        _service(spec, add)
    if kind in ("Job", "CronJob"):
        job_path = ("spec",) if kind == "Job" else ("spec", "jobTemplate", "spec")
        _pod_failure_policy(_dig(doc, (*job_path, "podFailurePolicy")), (*job_path, "podFailurePolicy"), add)
        _per_index(_dig(doc, job_path), job_path, add)
    if kind == "DaemonSet":
        rolling = _dig(doc, ("spec", "updateStrategy", "rollingUpdate"))
        if isinstance(rolling, Mapping) and _is_zero(rolling.get("maxUnavailable", 1)) and _is_zero(rolling.get("maxSurge", 0)):
            add("may not be 0 when `maxSurge` is 0", "spec", "updateStrategy", "rollingUpdate", "maxUnavailable")
    if kind == "CronJob":
        try:
            cron.parse(str(spec.get("schedule", "")))
        except cron.ScheduleError as exc:
            add(f"invalid schedule: {exc} (5 fields: minute hour day-of-month month day-of-week, or @hourly etc.)", "spec", "schedule")
    if kind == "Secret":
        for k, v in (doc.get("data") or {}).items():
            try:
                base64.b64decode(str(v), validate=True)
            except (binascii.Error, ValueError):
                add("value is not valid base64 (use stringData for plain text)", "data", k)
    if kind == "HorizontalPodAutoscaler":
        lo, hi = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            add("maxReplicas must be >= minReplicas", "spec", "maxReplicas")
    return out


_COUNTS = ("replicas", "minReplicas", "maxReplicas", "parallelism", "completions", "backoffLimit")


def _syntax(doc: Mapping[str, Any], kind: str, add: Any) -> None:
    """Kubernetes' syntax rules (kubeform.api.syntax) on names, labels, ports and counts."""
    meta = doc.get("metadata")
    if isinstance(meta, Mapping):
        name = meta.get("name")
        if isinstance(name, str) and name:
            problem = syntax.object_name(kind, name)
            if problem is not None:
                add(f"invalid {kind} name {shorten(name)}: {problem}", "metadata", "name")
    for path in _meta_paths(doc, kind):
        m = _dig(doc, path)
        if not isinstance(m, Mapping):
            continue
        for key, problem in syntax.label_problems(m.get("labels")):
            add(problem, *path, "labels", key)
        for key, problem in syntax.annotation_problems(m.get("annotations")):
            add(problem, *path, "annotations", *([key] if key else []))
    spec = doc.get("spec")
    for sel_path in (("spec", "selector"), ("spec", "selector", "matchLabels")):
        sel = _dig(doc, sel_path)
        if isinstance(sel, Mapping) and (kind in ("Service", "ReplicationController") or sel_path[-1] == "matchLabels"):
            for key, problem in syntax.label_problems(sel):
                add(problem, *sel_path, key)
    if kind in ("ConfigMap", "Secret"):
        for field in ("data", "stringData", "binaryData"):
            for key in doc.get(field) or {}:
                problem = syntax.config_key(str(key))
                if problem is not None:
                    add(f"invalid key {shorten(key)}: {problem}", field, key)
    for pod_path in _pod_paths(doc, kind):
        pod = _dig(doc, pod_path)
        if not isinstance(pod, Mapping):
            continue
        for group in ("initContainers", "containers"):
            for i, c in enumerate(pod.get(group) or []):
                for j, port in enumerate((c.get("ports") or []) if isinstance(c, Mapping) else []):
                    if isinstance(port, Mapping):
                        for field in ("containerPort", "hostPort"):
                            problem = syntax.port_number(port.get(field))
                            if problem is not None and not (field == "hostPort" and port.get(field) == 0):
                                add(problem, *pod_path, group, i, "ports", j, field)
    if isinstance(spec, Mapping):
        for field in _COUNTS:
            problem = syntax.count(spec.get(field))
            if problem is not None:
                add(problem, "spec", field)
        if kind == "Service":
            for i, p in enumerate(spec.get("ports") or []):
                if isinstance(p, Mapping) and "targetPort" in p:
                    problem = syntax.port_or_name(p["targetPort"])
                    if problem is not None:
                        add(problem, "spec", "ports", i, "targetPort")


def _pod_paths(doc: Mapping[str, Any], kind: str) -> list[tuple[Any, ...]]:
    """Where a kind keeps its pod spec(s)."""
    if kind == "Pod":
        return [("spec",)]
    if kind == "CronJob":
        return [("spec", "jobTemplate", "spec", "template", "spec")]
    return [("spec", "template", "spec")]


def _meta_paths(doc: Mapping[str, Any], kind: str) -> list[tuple[Any, ...]]:
    """Every metadata block of a document: its own and its templates'."""
    paths: list[tuple[Any, ...]] = [("metadata",)]
    if kind == "CronJob":
        paths += [("spec", "jobTemplate", "metadata"), ("spec", "jobTemplate", "spec", "template", "metadata")]
    elif kind != "Pod":
        paths.append(("spec", "template", "metadata"))
    return paths


def _is_zero(value: Any) -> bool:
    """An int-or-percent that is 0 or "0%" (what upstream's validation calls zero)."""
    return value == 0 or (isinstance(value, str) and value.strip() in ("0", "0%"))


def _pod_failure_policy(policy: Any, path: tuple[Any, ...], add: Any) -> None:
    """Upstream's rules for podFailurePolicy beyond its shape: one requirement per rule,
    and an exit code 0 never listed for the In operator."""
    if not isinstance(policy, Mapping):
        return
    for i, rule in enumerate(policy.get("rules") or []):
        if not isinstance(rule, Mapping):
            continue
        has_codes, has_conditions = rule.get("onExitCodes") is not None, rule.get("onPodConditions") is not None
        if has_codes == has_conditions:
            which = "specifying both OnExitCodes and OnPodConditions is not supported" if has_codes else "specifying one of OnExitCodes and OnPodConditions is required"
            add(which, *path, "rules", i)
        codes = rule.get("onExitCodes")
        if isinstance(codes, Mapping) and codes.get("operator") == "In" and 0 in (codes.get("values") or []):
            add("must not be 0 for the In operator", *path, "rules", i, "onExitCodes", "values")


def _per_index(job: Any, path: tuple[Any, ...], add: Any) -> None:
    """Upstream's rules for backoffLimitPerIndex, maxFailedIndexes and the FailIndex action."""
    if not isinstance(job, Mapping):
        return
    per_index = job.get("backoffLimitPerIndex")
    if per_index is not None and job.get("completionMode") != "Indexed":
        add("requires indexed completion mode", *path, "backoffLimitPerIndex")
    most = job.get("maxFailedIndexes")
    if most is not None:
        if per_index is None:
            add("cannot set maxFailedIndexes when backoffLimitPerIndex is not set", *path, "maxFailedIndexes")
        completions = job.get("completions")
        if isinstance(most, int) and isinstance(completions, int) and most > completions:
            add("must be less than or equal to completions", *path, "maxFailedIndexes")
    policy = job.get("podFailurePolicy")
    for i, rule in enumerate(policy.get("rules") or [] if isinstance(policy, Mapping) else []):
        if isinstance(rule, Mapping) and rule.get("action") == "FailIndex" and per_index is None:
            add("requires the backoffLimitPerIndex to be set", *path, "podFailurePolicy", "rules", i, "action")


def _service(spec: Mapping[str, Any], add: Any) -> None:
    ports = spec.get("ports") or []
    stype = spec.get("type", "ClusterIP")
    cip = spec.get("clusterIP")
    if cip not in (None, "", "None"):
        try:
            ipaddress.ip_address(str(cip))
        except ValueError:
            add(f"{cip!r} is not an IP address or None", "spec", "clusterIP")
    if cip == "None" and stype != "ClusterIP":
        add("a headless service (clusterIP: None) must be of type ClusterIP", "spec", "clusterIP")
    if not ports and stype != "ExternalName" and cip != "None":
        add("at least one port is required", "spec", "ports")
    seen_names: set[str] = set()
    seen_ports: set[tuple[Any, Any]] = set()
    for i, p in enumerate(ports):
        if not isinstance(p, Mapping):
            continue
        if len(ports) > 1 and not p.get("name"):
            add("every port needs a name when there are several", "spec", "ports", i, "name")
        if p.get("name") in seen_names:
            add(f"duplicate port name {p.get('name')!r}", "spec", "ports", i, "name")
        key = (p.get("port"), p.get("protocol", "TCP"))
        if key in seen_ports:
            add(f"duplicate port {key[0]}/{key[1]}", "spec", "ports", i, "port")
        seen_names.add(str(p.get("name")))
        seen_ports.add(key)
        if "nodePort" in p and stype not in ("NodePort", "LoadBalancer"):
            add("nodePort is only allowed for type NodePort", "spec", "ports", i, "nodePort")
        np = p.get("nodePort")
        if isinstance(np, int) and not 30000 <= np <= 32767:
            add("nodePort must be in 30000-32767", "spec", "ports", i, "nodePort")


def _dig(doc: Any, path: Sequence[Any]) -> Any:
    node = doc
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def check(doc: Any, *, strict: bool = False) -> tuple[kinds.Kind | None, list[Problem]]:
    """The kind of a manifest document and every problem found in it."""
    if not isinstance(doc, Mapping):
        return None, [Problem("a manifest must be a mapping with apiVersion, kind, metadata", "", yamlsrc.line_of(doc))]
    try:
        kind = kinds.for_manifest(doc.get("apiVersion"), doc.get("kind"))
    except UserError as err:
        field = err.field or "kind"
        return None, [Problem(err.message + (f" ({err.hint})" if err.hint else ""), field, line_at(doc, [field]))]
    if kind.read_only:
        return kind, [Problem(f"{kind.kind} objects are written by the node agents, not by apply", "kind", line_at(doc, ["kind"]))]
    problems = _schema_problems(doc, kind.kind)
    if not any(p.error for p in problems):
        problems += _semantic(doc, kind.kind)
    if strict:
        # an unsupported field is refused under --strict, so not "kept"
        problems = [
            Problem(p.message.replace(" (kept, but ignored)", " (--strict)") if not p.error else p.message, p.path, p.line, True)
            for p in problems
        ]
    return kind, problems
