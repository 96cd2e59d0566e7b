"""The files Kubernetes mounts at /var/run/secrets/kubernetes.io/serviceaccount, as far as
kubeform can honestly provide them.

Why: manifests copied from the Kubernetes documentation read them. The init-container
example runs ``nslookup myservice.$(cat /var/run/secrets/kubernetes.io/serviceaccount/
namespace).svc.cluster.local``; without the file its name is ``myservice..svc...`` and the
init container never succeeds. Kubernetes' ServiceAccount admission adds a projected
volume (``kube-api-access-xxxxx``) of three files to every container, init containers too:
``token`` (a ServiceAccount token for the API server), ``ca.crt`` (the CA of the API
server's certificate, from the ``kube-root-ca.crt`` ConfigMap) and ``namespace``.

What kubeform gives: ``namespace`` always, ``ca.crt`` when the node holds the cluster CA
(/etc/kubeform/pki/ca.crt, which signs the cluster's registry and etcd), and no ``token``:
kubeform has no API server a pod could call, and no ServiceAccount kind to mint tokens
for, so any token would be a lie (a program that finds none says so; one that found a fake
one would fail later, far from the cause). Kubernetes' opt-out is honoured:
``spec.automountServiceAccountToken: false`` mounts nothing, and a container that mounts
a volume of its own at that path keeps its own (as the admission plugin does).

The agent adds this mount itself instead of rewriting the pod's spec at apply time, so
``get pod -o yaml`` shows no ``kube-api-access`` volume (docs/runtime.md). The files live
in the pod's volume directory under a name no user volume can have (a dot is not allowed
in a volume name), so the pod's teardown removes them. Pure apart from ``read_ca``.
"""

from typing import Any, Dict, Optional

from .driver import Mount
from .volumes import FileEntry, volume_dir

Obj = Dict[str, Any]

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
#: Its directory under the pod's volumes: not a valid volume name, so never a user's.
VOLUME_NAME = "kube-api-access.kubeform"
#: The projected volume's defaultMode in Kubernetes (0644).
MODE = 0o644


def wanted(pod: Obj) -> bool:
    """Whether the pod gets the files (automountServiceAccountToken is not false)."""
    return (pod.get("spec") or {}).get("automountServiceAccountToken") is not False


def files(pod: Obj, ca_pem: Optional[bytes]) -> Dict[str, FileEntry]:
    """The files: namespace always, ca.crt when the node has the cluster CA; no token."""
    out = {"namespace": FileEntry(str((pod.get("metadata") or {}).get("namespace") or "default").encode("utf-8"), MODE)}
    if ca_pem:
        out["ca.crt"] = FileEntry(ca_pem, MODE)
    return out


def container_mount(state_dir: str, pod: Obj, container: Obj) -> Optional[Mount]:
    """The read-only mount a container gets, or None (opted out, or it mounts that path itself)."""
    if not wanted(pod):
        return None
    for vm in container.get("volumeMounts") or []:
        if str(vm.get("mountPath", "")).rstrip("/") == MOUNT_PATH:
            return None
    uid = str((pod.get("metadata") or {}).get("uid", ""))
    return Mount(volume_dir(state_dir, uid, VOLUME_NAME), MOUNT_PATH, True)


def read_ca(path: str) -> Optional[bytes]:
    """The cluster CA certificate on this node, or None when it has none (or it is unreadable)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data if b"-----BEGIN CERTIFICATE-----" in data else None
