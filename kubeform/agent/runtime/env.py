"""A container's environment, argv and user, resolved from the pod spec as the kubelet does.

Why pure: the rules are many and exact (envFrom before env, later wins; ``$(VAR)`` expanded
only from variables defined earlier; command replaces the image Entrypoint and drops its
Cmd; a missing required ConfigMap key stops the container with Kubernetes' own message),
so they are tested with data files. The caller supplies the ConfigMaps and Secrets of the
pod's namespace (by name), the pod/host IPs and the Service variables (serviceenv.py):
those come after the pod's own variables, which win on a conflict, and ``$(VAR)`` may name
them, as the kubelet's expansion does.
"""

import base64
import re
from collections import ChainMap
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

Obj = Dict[str, Any]


class ConfigError(Exception):
    """CreateContainerConfigError: the message is the one Kubernetes shows."""


class Resolved(NamedTuple):
    env: List[Tuple[str, str]]  # pod-defined variables in order (envFrom, then env), then the Services' the pod does not define
    argv: List[str]
    working_dir: str
    user: Optional[int]
    group: Optional[int]


def expand(text: str, mapping: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: $$ -> $, $(NAME) -> value when NAME is defined, else kept."""
    out = []  # type: List[str]
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close < 0:
                out.append(text[i:])
                break
            name = text[i + 2:close]
            out.append(mapping[name] if name in mapping else text[i:close + 1])
            i = close + 1
        else:
            out.append("$" + nxt)
            i += 2
    return "".join(out)


def _secret_value(secret: Obj, key: str) -> Optional[str]:
    data = secret.get("data") or {}
    if key in data:
        try:
            return base64.b64decode(str(data[key])).decode("utf-8", "replace")
        except (ValueError, TypeError):
            return None
    string_data = secret.get("stringData") or {}
    if key in string_data:
        return str(string_data[key])
    return None


def secret_items(secret: Obj) -> Dict[str, bytes]:
    """Every key of a Secret, decoded (data is base64; stringData, if kept, is plain)."""
    out = {}  # type: Dict[str, bytes]
    for key, value in (secret.get("stringData") or {}).items():
        out[key] = str(value).encode("utf-8")
    for key, value in (secret.get("data") or {}).items():
        try:
            out[key] = base64.b64decode(str(value))
        except (ValueError, TypeError):
            continue
    return out


def configmap_items(cm: Obj) -> Dict[str, bytes]:
    """Every key of a ConfigMap: data as UTF-8, binaryData decoded."""
    out = {}  # type: Dict[str, bytes]
    for key, value in (cm.get("binaryData") or {}).items():
        try:
            out[key] = base64.b64decode(str(value))
        except (ValueError, TypeError):
            continue
    for key, value in (cm.get("data") or {}).items():
        out[key] = str(value).encode("utf-8")
    return out


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def downward_map(values: Dict[str, str]) -> str:
    """labels/annotations as the downward API prints them: k="v" lines, sorted."""
    return "\n".join('%s="%s"' % (k, values[k]) for k in sorted(values))


def field_value(pod: Obj, path: str, pod_ip: str, host_ip: str) -> str:
    """A fieldRef's value; ConfigError for a path Kubernetes does not support."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace") or "default",
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName") or "default",
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return str(simple[path])
    if path in ("metadata.labels", "metadata.annotations"):
        return downward_map(meta.get(path.split(".")[1]) or {})
    m = _SUBSCRIPT.match(path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    raise ConfigError('unsupported fieldRef fieldPath "%s"' % path)


def _from_ref(
    ref: Obj, kind: str, objects: Dict[str, Obj], namespace: str
) -> Optional[str]:
    """The value of a configMapKeyRef/secretKeyRef; None when optional and missing."""
    name = ref.get("name", "")
    key = ref.get("key", "")
    optional = bool(ref.get("optional", False))
    obj = objects.get(name)
    if obj is None:
        if optional:
            return None
        raise ConfigError('%s "%s" not found' % (kind.lower(), name))
    value = _secret_value(obj, key) if kind == "Secret" else (
        None if key not in (obj.get("data") or {}) else str((obj.get("data") or {})[key])
    )
    if value is None:
        if optional:
            return None
        raise ConfigError("couldn't find key %s in %s %s/%s" % (key, kind, namespace, name))
    return value


def _resource_value(container: Obj, ref: Obj) -> str:
    resource = ref.get("resource", "")
    section, _, what = resource.partition(".")
    value = ((container.get("resources") or {}).get(section) or {}).get(what)
    return str(value) if value is not None else "0"


def pod_env(
    pod: Obj,
    container: Obj,
    configmaps: Dict[str, Obj],
    secrets: Dict[str, Obj],
    pod_ip: str,
    host_ip: str,
    services: Optional[Dict[str, str]] = None,
) -> List[Tuple[str, str]]:
    """The variables the pod spec defines for ``container``, expanded, in order (later wins);
    ``$(VAR)`` looks in the variables defined so far, then in ``services``."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    values = {}  # type: Dict[str, str]
    order = []  # type: List[str]
    lookup = ChainMap(values, services or {})  # type: Mapping[str, str]

    def put(name: str, value: str) -> None:
        if name not in values:
            order.append(name)
        values[name] = value

    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            ref, kind, pool = source["configMapRef"] or {}, "ConfigMap", configmaps
        elif "secretRef" in source:
            ref, kind, pool = source["secretRef"] or {}, "Secret", secrets
        else:
            continue
        obj = pool.get(ref.get("name", ""))
        if obj is None:
            if ref.get("optional"):
                continue
            raise ConfigError('%s "%s" not found' % (kind.lower(), ref.get("name", "")))
        items = secret_items(obj) if kind == "Secret" else {k: str(v).encode("utf-8") for k, v in (obj.get("data") or {}).items()}
        for key in sorted(items):
            if "=" in key or not key:
                continue  # Kubernetes skips invalid names (with an event)
            put(prefix + key, items[key].decode("utf-8", "replace"))
    for var in container.get("env") or []:
        name = var.get("name", "")
        if "value" in var or "valueFrom" not in var:
            put(name, expand(str(var.get("value", "")), lookup))
            continue
        source = var.get("valueFrom") or {}
        value = None  # type: Optional[str]
        if "configMapKeyRef" in source:
            value = _from_ref(source["configMapKeyRef"] or {}, "ConfigMap", configmaps, namespace)
        elif "secretKeyRef" in source:
            value = _from_ref(source["secretKeyRef"] or {}, "Secret", secrets, namespace)
        elif "fieldRef" in source:
            value = field_value(pod, (source["fieldRef"] or {}).get("fieldPath", ""), pod_ip, host_ip)
        elif "resourceFieldRef" in source:
            value = _resource_value(container, source["resourceFieldRef"] or {})
        if value is not None:
            put(name, value)
    return [(name, values[name]) for name in order]


def merge_argv(container: Obj, entrypoint: List[str], cmd: List[str], env: Mapping[str, str]) -> List[str]:
    """Kubernetes' rule: command replaces Entrypoint (and drops Cmd); args replaces Cmd."""
    command = container.get("command")
    args = container.get("args")
    if command:
        argv = [expand(str(a), env) for a in command] + [expand(str(a), env) for a in (args or [])]
    elif args:
        argv = list(entrypoint) + [expand(str(a), env) for a in args]
    else:
        argv = list(entrypoint) + list(cmd)
    return argv


def _int_or_none(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def run_as(pod: Obj, container: Obj) -> Tuple[Optional[int], Optional[int]]:
    """runAsUser/runAsGroup: the container's securityContext wins over the pod's."""
    pod_sc = (pod.get("spec") or {}).get("securityContext") or {}
    sc = container.get("securityContext") or {}
    user = _int_or_none(sc.get("runAsUser", pod_sc.get("runAsUser")))
    group = _int_or_none(sc.get("runAsGroup", pod_sc.get("runAsGroup")))
    return user, group


def resolve(
    pod: Obj,
    container: Obj,
    entrypoint: List[str],
    cmd: List[str],
    image_working_dir: str,
    configmaps: Dict[str, Obj],
    secrets: Dict[str, Obj],
    pod_ip: str,
    host_ip: str,
    services: Optional[List[Tuple[str, str]]] = None,
) -> Resolved:
    """Everything a ContainerSpec needs from the pod; ConfigError as CreateContainerConfigError.

    ``services``: the Service variables (serviceenv.variables), added after the pod's own
    and only where the pod does not define the same name."""
    service_env = dict(services or [])
    env = pod_env(pod, container, configmaps, secrets, pod_ip, host_ip, service_env)
    defined = set(name for name, _ in env)
    env += [(name, value) for name, value in services or [] if name not in defined]
    mapping = dict(env)
    argv = merge_argv(container, entrypoint, cmd, mapping)
    if not argv:
        raise ConfigError("no command specified")
    user, group = run_as(pod, container)
    return Resolved(env, argv, str(container.get("workingDir") or image_working_dir or ""), user, group)
