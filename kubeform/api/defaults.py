"""Server-side defaults, applied as the Kubernetes API server applies them.

What is stored must be what a Kubernetes user expects to read back (``kubectl get -o
yaml`` shows ``strategy: RollingUpdate 25%/25%`` without anyone writing it), and the
reconciler can then rely on every field being present. Pure: a new object is returned.
"""

import base64
import copy
from typing import Any, Callable, Dict, Optional

Obj = Dict[str, Any]

DEFAULT_NAMESPACE = "default"


def plain(value: Any) -> Any:
    """A deep copy as plain dicts/lists (drops LineDict line bookkeeping)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _probe(probe: Optional[Obj]) -> None:
    if not probe:
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if "httpGet" in probe:
        probe["httpGet"].setdefault("path", "/")
        probe["httpGet"].setdefault("scheme", "HTTP")


def _image_pull_policy(image: str) -> str:
    """Always for :latest or untagged images, IfNotPresent otherwise (Kubernetes' rule)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _container(c: Obj) -> None:
    c.setdefault("imagePullPolicy", _image_pull_policy(str(c.get("image", ""))))
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(name))


def pod_spec(spec: Obj) -> None:
    """Defaults of a PodSpec, in place (shared by Pod and every pod template)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for c in spec.get("initContainers") or []:
        _container(c)
    for c in spec.get("containers") or []:
        _container(c)
    for vol in spec.get("volumes") or []:
        if "configMap" in vol:
            vol["configMap"].setdefault("defaultMode", 0o644)
        if "secret" in vol:
            vol["secret"].setdefault("defaultMode", 0o644)
        if "hostPath" in vol:
            vol["hostPath"].setdefault("type", "")


def _template(spec: Obj) -> None:
    tmpl = spec.get("template")
    if isinstance(tmpl, dict):
        tmpl.setdefault("metadata", {})
        if isinstance(tmpl.get("spec"), dict):
            pod_spec(tmpl["spec"])


def _pod(obj: Obj) -> None:
    pod_spec(obj.setdefault("spec", {}))


def _rc(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if labels and not spec.get("selector"):
        spec["selector"] = dict(labels)
    if not obj["metadata"].get("labels") and labels:
        obj["metadata"]["labels"] = dict(labels)
    _template(spec)


def _rs(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _template(spec)


def _deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(spec)


def _daemonset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", 1)
        ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template(spec)


def _statefulset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    for pvc in spec.get("volumeClaimTemplates") or []:
        pvc.setdefault("apiVersion", "v1")
        pvc.setdefault("kind", "PersistentVolumeClaim")
        pvc.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    _template(spec)


def job_spec(spec: Obj, *, name: Optional[str], uid: Optional[str]) -> None:
    """Job defaults; a Job's own selector and labels need its name/uid (None in a CronJob)."""
    # with a per-index limit the global one defaults to "no limit" (upstream's MaxInt32)
    spec.setdefault("backoffLimit", 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6)
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1  # only then: parallelism alone means a work queue (no count)
    spec.setdefault("parallelism", 1)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    _template(spec)
    if name and uid and not spec.get("manualSelector"):
        own = {"controller-uid": uid, "job-name": name}
        if not spec.get("selector"):
            spec["selector"] = {"matchLabels": {"controller-uid": uid}}
        tmeta = spec.setdefault("template", {}).setdefault("metadata", {})
        labels = tmeta.setdefault("labels", {})
        for k, v in own.items():
            labels.setdefault(k, v)


def _job(obj: Obj) -> None:
    meta = obj["metadata"]
    job_spec(obj.setdefault("spec", {}), name=meta.get("name"), uid=meta.get("uid"))


def _cronjob(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    jt = spec.setdefault("jobTemplate", {})
    jt.setdefault("metadata", {})
    job_spec(jt.setdefault("spec", {}), name=None, uid=None)


def _service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if spec.get("clusterIP") and "clusterIPs" not in spec:
        spec["clusterIPs"] = [spec["clusterIP"]]


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if string_data:
        data = obj.setdefault("data", {})
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


def _configmap(obj: Obj) -> None:
    """Nothing: the API server defaults no ConfigMap field (the entry says so explicitly)."""


def _endpoints(obj: Obj) -> None:
    """Endpoints written by hand (for a Service without a selector): ports default to TCP."""
    for subset in obj.get("subsets") or []:
        for port in subset.get("ports") or []:
            port.setdefault("protocol", "TCP")


def _namespace(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")
    obj["metadata"].setdefault("labels", {}).setdefault(
        "kubernetes.io/metadata.name", obj["metadata"].get("name", "")
    )


#: The class a claim without storageClassName gets (kubeform's built-in default, as k3s's).
DEFAULT_STORAGE_CLASS = "local-path"


def _pvc(obj: Obj) -> None:
    """volumeMode Filesystem; no storageClassName means the default class (what Kubernetes'
    DefaultStorageClass admission does); an explicit "" stays (no class)."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")
    if spec.get("storageClassName") is None:
        spec["storageClassName"] = DEFAULT_STORAGE_CLASS
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def _pv(obj: Obj) -> None:
    """Retain for a volume made by hand (Kubernetes' default), Filesystem, phase Pending."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    if "hostPath" in spec:
        spec["hostPath"].setdefault("type", "")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def _storageclass(obj: Obj) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def hpa_v1_to_v2(obj: Obj) -> Obj:
    """autoscaling/v1 -> autoscaling/v2 (stored version): CPU percentage -> a metric."""
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    spec = out.setdefault("spec", {})
    pct = spec.pop("targetCPUUtilizationPercentage", None)
    if pct is not None:
        spec["metrics"] = [_cpu_metric(int(pct))]
    return out


def _cpu_metric(pct: int) -> Obj:
    return {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}},
    }


def _hpa(obj: Obj) -> None:
    if obj.get("apiVersion") == "autoscaling/v1":
        obj.update(hpa_v1_to_v2(obj))
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [_cpu_metric(80)]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        # SetDefaults_HorizontalPodAutoscalerBehavior: a given behavior gets every missing
        # field; scaleDown's window stays unset (the controller's 300 s applies).
        up = behavior.setdefault("scaleUp", {})
        up.setdefault("stabilizationWindowSeconds", 0)
        up.setdefault("selectPolicy", "Max")
        up.setdefault("policies", [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                   {"type": "Percent", "value": 100, "periodSeconds": 15}])
        down = behavior.setdefault("scaleDown", {})
        down.setdefault("selectPolicy", "Max")
        down.setdefault("policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])


_BY_KIND: Dict[str, Callable[[Obj], None]] = {
    "Pod": _pod,
    "ReplicationController": _rc,
    "ReplicaSet": _rs,
    "Deployment": _deployment,
    "DaemonSet": _daemonset,
    "StatefulSet": _statefulset,
    "PersistentVolumeClaim": _pvc,
    "PersistentVolume": _pv,
    "StorageClass": _storageclass,
    "Job": _job,
    "CronJob": _cronjob,
    "Service": _service,
    "Endpoints": _endpoints,
    "Secret": _secret,
    "ConfigMap": _configmap,
    "Namespace": _namespace,
    "HorizontalPodAutoscaler": _hpa,
}

NAMESPACED_EXCEPTIONS = ("Namespace", "Node", "PersistentVolume", "StorageClass")


def apply_defaults(obj: Obj) -> Obj:
    """A defaulted copy of a manifest (namespace `default` for namespaced kinds)."""
    out: Obj = plain(obj)
    meta = out.setdefault("metadata", {})
    if out.get("kind") not in NAMESPACED_EXCEPTIONS:
        meta.setdefault("namespace", DEFAULT_NAMESPACE)
    fn = _BY_KIND.get(str(out.get("kind")))
    if fn is not None:
        fn(out)
    return out
