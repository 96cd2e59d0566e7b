"""The kinds kubeform stores: names, API groups, etcd resources, short names, scope.

One table drives the CLI's name resolution (``po``, ``deploy``, ``deployments.apps``), the
etcd key layout (``/registry/<resource>/...``) and schema lookup, so adding a kind is one
line here plus one schema file.
"""

from typing import Dict, NamedTuple, Optional, Tuple

from kubeform.errors import UserError

REGISTRY = "/registry"


class Kind(NamedTuple):
    """One kind: how users name it and where it lives in etcd."""

    kind: str
    api_versions: Tuple[str, ...]  # first = the version stored and shown
    resource: str  # plural, the etcd key segment and kubectl's resource name
    namespaced: bool
    short_names: Tuple[str, ...] = ()
    read_only: bool = False  # written by agents/controllers, never by apply

    @property
    def api_version(self) -> str:
        return self.api_versions[0]

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0] if "/" in self.api_version else ""

    @property
    def qualified(self) -> str:
        """kubectl's ``resource.group`` spelling, e.g. ``deployment.apps`` (for messages)."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()

    @property
    def etcd_resource(self) -> str:
        """Key segment; Nodes live under ``minions`` as in Kubernetes."""
        return "minions" if self.kind == "Node" else self.resource

    @property
    def schema_file(self) -> str:
        return f"{self.kind.lower()}.schema.json"

    def prefix(self, namespace: Optional[str] = None) -> str:
        """etcd key prefix of all objects of this kind (in one namespace if given)."""
        if self.namespaced and namespace:
            return f"{REGISTRY}/{self.etcd_resource}/{namespace}/"
        return f"{REGISTRY}/{self.etcd_resource}/"

    def key(self, namespace: Optional[str], name: str) -> str:
        """etcd key of one object: /registry/<resource>/<ns>/<name> or /registry/<resource>/<name>."""
        if self.namespaced:
            return f"{REGISTRY}/{self.etcd_resource}/{namespace or 'default'}/{name}"
        return f"{REGISTRY}/{self.etcd_resource}/{name}"


KINDS: Tuple[Kind, ...] = (
    Kind("Pod", ("v1",), "pods", True, ("po",)),
    Kind("ReplicationController", ("v1",), "replicationcontrollers", True, ("rc",)),
    Kind("Service", ("v1",), "services", True, ("svc",)),
    Kind("Endpoints", ("v1",), "endpoints", True, ("ep",)),
    Kind("ConfigMap", ("v1",), "configmaps", True, ("cm",)),
    Kind("Secret", ("v1",), "secrets", True),
    Kind("Namespace", ("v1",), "namespaces", False, ("ns",)),
    Kind("Node", ("v1",), "nodes", False, ("no",), read_only=True),
    Kind("Deployment", ("apps/v1",), "deployments", True, ("deploy",)),
    Kind("ReplicaSet", ("apps/v1",), "replicasets", True, ("rs",)),
    Kind("DaemonSet", ("apps/v1",), "daemonsets", True, ("ds",)),
    Kind("StatefulSet", ("apps/v1",), "statefulsets", True, ("sts",)),
    Kind("ControllerRevision", ("apps/v1",), "controllerrevisions", True, read_only=True),
    Kind("PersistentVolumeClaim", ("v1",), "persistentvolumeclaims", True, ("pvc",)),
    Kind("PersistentVolume", ("v1",), "persistentvolumes", False, ("pv",)),
    Kind("StorageClass", ("storage.k8s.io/v1",), "storageclasses", False, ("sc",)),
    Kind("Job", ("batch/v1",), "jobs", True),
    Kind("CronJob", ("batch/v1",), "cronjobs", True, ("cj",)),
    Kind(
        "HorizontalPodAutoscaler",
        ("autoscaling/v2", "autoscaling/v1"),
        "horizontalpodautoscalers",
        True,
        ("hpa",),
    ),
    Kind("Event", ("v1",), "events", True, ("ev",), read_only=True),
)

BY_KIND: Dict[str, Kind] = {k.kind: k for k in KINDS}


def _aliases() -> Dict[str, Kind]:
    """Every spelling a user may type: Kind, kind, plural, short name, with .group."""
    out: Dict[str, Kind] = {}
    for k in KINDS:
        names = {k.kind.lower(), k.resource, *k.short_names}
        for n in names:
            out[n] = k
            if k.group:
                out[f"{n}.{k.group}"] = k
    return out


ALIASES = _aliases()


def resolve(name: str) -> Kind:
    """The kind a CLI argument names; an unknown name lists what is known."""
    k = ALIASES.get(name.lower())
    if k is None:
        known = ", ".join(sorted(x.resource for x in KINDS))
        raise UserError(f"unknown resource type {name!r}", hint=f"known: {known}")
    return k


def for_manifest(api_version: object, kind: object) -> Kind:
    """The kind of a manifest document, checking its apiVersion belongs to it."""
    if not isinstance(kind, str) or not kind:
        raise UserError("missing or invalid kind", field="kind")
    k = BY_KIND.get(kind)
    if k is None:
        known = ", ".join(x.kind for x in KINDS if not x.read_only)
        raise UserError(f"unknown kind {kind!r}", field="kind", hint=f"known: {known}")
    if api_version not in k.api_versions:
        want = " or ".join(k.api_versions)
        raise UserError(
            f"apiVersion {api_version!r} does not serve {kind} (use {want})", field="apiVersion"
        )
    return k
