"""Objects only go into namespaces that exist, end to end against a real TLS etcd."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kubeform.api import kinds
from kubeform.cli.main import main
from kubeform.store import applier
from kubeform.store.client import Store
from kubeform.store.manifests import Doc

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]
pytestmark = pytest.mark.integration

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: nope
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx}
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: nope\n"
REFUSED = (
    'metadata.namespace: namespaces "nope" not found '
    "(create it first with `kubeform create namespace nope`, or add a Namespace document to this apply)"
)


def run(capsys: pytest.CaptureFixture[str], etcd: EtcdServer, *argv: str) -> tuple[int, str, str]:
    rc = main([*argv, "--cluster", str(etcd.cluster.path)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_apply_into_missing_namespace_is_refused_and_stores_nothing(
    etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "app.yaml"
    f.write_text(CM + "---\n" + DEPLOY)
    for argv in (("apply",), ("apply", "--dry-run"), ("diff",)):
        rc, out, err = run(capsys, etcd_clean, *argv, "-f", str(f))
        assert rc == (2 if argv == ("diff",) else 1) and out == ""
        assert f"app.yaml (document 2):10: {REFUSED}" in err
    assert "nothing was applied" in err
    assert etcd_clean.client().get_prefix("/registry/") == []


@pytest.mark.parametrize("order", ["namespace first", "namespace last"])
def test_namespace_in_the_same_apply_counts(
    order: str, etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "app.yaml"
    f.write_text("---\n".join([NS, DEPLOY] if order == "namespace first" else [DEPLOY, NS]))
    rc, out, err = run(capsys, etcd_clean, "diff", "-f", str(f))
    assert rc == 1, err
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(f))
    assert rc == 0, err
    assert out.splitlines() == ["namespace/nope created", "deployment.apps/web created"]
    assert etcd_clean.client().get("/registry/deployments/nope/web")
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(f))
    assert rc == 0 and "deployment.apps/web unchanged" in out


def test_namespace_created_earlier(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(DEPLOY)
    assert run(capsys, etcd_clean, "create", "namespace", "nope")[0] == 0
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(f))
    assert rc == 0 and out == "deployment.apps/web created\n", err
    rc, out, _ = run(capsys, etcd_clean, "delete", "ns", "nope", "--wait=false")
    # marked Terminating; the reconciler's namespace controller empties and removes it
    assert rc == 0 and out == "namespace/nope deleted\n"
    rc, out, _ = run(capsys, etcd_clean, "get", "ns", "nope")
    assert "Terminating" in out
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(f))
    assert rc == 0 and "deployment.apps/web unchanged" in out  # what is still there may change
    rc, _, err = run(capsys, etcd_clean, "create", "configmap", "late", "-n", "nope")
    assert rc == 1 and "unable to create new content in namespace nope because it is being terminated" in err


def test_cli_namespace_must_exist(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "cm.yaml"
    f.write_text(CM)
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(f), "-n", "nope")
    assert rc == 1 and out == "" and "cm.yaml (document 1):3: metadata.namespace: namespaces \"nope\" not found" in err
    assert etcd_clean.client().get_prefix("/registry/") == []


def test_default_exists_without_builtins(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`default` always exists (as in Kubernetes); the other built-ins once `up` made them."""
    f = tmp_path / "cm.yaml"
    f.write_text(CM)
    assert run(capsys, etcd_clean, "apply", "-f", str(f))[0] == 0
    assert etcd_clean.client().get("/registry/namespaces/default") == []  # no read, no write of it
    rc, _, err = run(capsys, etcd_clean, "apply", "-f", str(f), "-n", "kube-system")
    assert rc == 1 and 'namespaces "kube-system" not found' in err
    applier.ensure_builtins(Store.from_cluster(etcd_clean.cluster))
    for ns in ("kube-system", "kube-public", "kube-node-lease"):
        rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(f), "-n", ns)
        assert rc == 0 and out == "configmap/cfg created\n", err


def test_create_in_missing_namespace_refused(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    for what in (("secret", "generic", "db"), ("configmap", "cfg")):
        rc, out, err = run(capsys, etcd_clean, "create", *what, "-n", "nope", "--from-literal", "a=b")
        assert rc == 1 and out == ""
        assert '<command line> (document 1): metadata.namespace: namespaces "nope" not found' in err
        assert "kubeform create namespace nope" in err
    assert etcd_clean.client().get_prefix("/registry/") == []
    assert run(capsys, etcd_clean, "create", "namespace", "nope")[0] == 0
    rc, out, err = run(capsys, etcd_clean, "create", "configmap", "cfg", "-n", "nope", "--from-literal", "a=b")
    assert rc == 0 and out == "configmap/cfg created\n", err
    rc, out, err = run(capsys, etcd_clean, "label", "cm", "cfg", "x=y", "-n", "nope")
    assert rc == 0 and out == "configmap/cfg labeled\n", err


def test_namespace_after_many_objects_is_written_first(etcd_clean: EtcdServer) -> None:
    """An apply bigger than one transaction never stores an object before its namespace."""
    store = Store.from_cluster(etcd_clean.cluster)
    objs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i:03d}", "namespace": "bulk"}}
        for i in range(250)
    ]
    objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bulk"}})
    items = [(Doc("t", i + 1, o), kinds.BY_KIND[o["kind"]]) for i, o in enumerate(objs)]
    written: list[str] = []
    applier.apply_docs(store, items, report=lambda p: written.append(p.ref))
    assert written[0] == "namespace/bulk" and len(written) == 251
    assert len(store.list(kinds.BY_KIND["ConfigMap"], "bulk")) == 250
