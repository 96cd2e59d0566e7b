"""`get -f`, `describe -f` against a real TLS etcd: the objects a manifest names, as
kubectl shows them (missing ones reported, the rest still shown)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from kubeform.cli.main import main

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]

pytestmark = pytest.mark.integration

MANIFESTS = Path(__file__).parent.parent / "data" / "manifests"
PHP = str(MANIFESTS / "php-apache.yaml")


def run(capsys: pytest.CaptureFixture[str], etcd: EtcdServer, *argv: str) -> tuple[int, str, str]:
    rc = main([*argv, "--cluster", str(etcd.cluster.path)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_get_and_describe_the_objects_a_file_names(
    etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, etcd_clean, "apply", "-f", PHP)[0] == 0
    rc, out, err = run(capsys, etcd_clean, "get", "-f", PHP)
    assert (rc, err) == (0, "")
    tables = out.split("\n\n")
    assert [t.splitlines()[1].split()[0] for t in tables] == [
        "deployment.apps/php-apache", "service/php-apache", "horizontalpodautoscaler.autoscaling/php-apache"]
    assert tables[1].splitlines()[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]

    rc, out, _ = run(capsys, etcd_clean, "get", "-f", PHP, "-o", "name")
    assert out.splitlines() == ["deployment.apps/php-apache", "service/php-apache",
                                "horizontalpodautoscaler.autoscaling/php-apache"]
    rc, out, _ = run(capsys, etcd_clean, "get", "-f", PHP, "-o", "json")
    assert [i["kind"] for i in json.loads(out)["items"]] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    rc, out, _ = run(capsys, etcd_clean, "get", "-f", PHP, "-o", "jsonpath={.items[*].metadata.name}")
    assert out == "php-apache php-apache php-apache"

    one = tmp_path / "svc.yaml"
    one.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: php-apache}\n")
    rc, out, _ = run(capsys, etcd_clean, "get", "-f", str(one), "-o", "yaml")
    assert yaml.safe_load(out)["kind"] == "Service"  # one object: itself, not a List
    rc, out, _ = run(capsys, etcd_clean, "get", "-f", str(one))
    assert out.splitlines()[1].split()[0] == "php-apache"  # one kind: plain names

    rc, out, err = run(capsys, etcd_clean, "describe", "-f", str(one))
    assert rc == 0 and out.startswith("Name:") and "php-apache" in out.splitlines()[0]

    rc, out, err = run(capsys, etcd_clean, "delete", "svc", "php-apache")
    assert rc == 0
    rc, out, err = run(capsys, etcd_clean, "get", "-f", PHP)
    assert rc == 1
    assert err == 'Error from server (NotFound): services "php-apache" not found\n'
    assert "deployment.apps/php-apache" in out and "service/" not in out
    rc, out, err = run(capsys, etcd_clean, "describe", "-f", PHP)
    assert rc == 1 and 'services "php-apache" not found' in err and [ln for ln in out.splitlines() if ln.startswith("Name:")] == ["Name:         php-apache"] * 2

    rc, _, err = run(capsys, etcd_clean, "get", "deploy", "-f", PHP)
    assert rc != 0 and "not both" in err


def test_logs_finds_the_first_pod_of_a_workload(
    etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """`logs deployment/x` resolves to a pod as kubectl's does (the SSH part is the lab's)."""
    import argparse

    from kubeform.api import kinds
    from kubeform.cli import pods
    from kubeform.errors import UserError
    from kubeform.store.client import Op, Store, encode

    assert run(capsys, etcd_clean, "apply", "-f", PHP)[0] == 0
    store = Store.from_cluster(etcd_clean.cluster)
    for name, node, phase in (("php-a", "", "Pending"), ("php-b", "kf-node1", "Running")):
        store.write([Op(kinds.BY_KIND["Pod"].key("default", name), encode({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "uid": name, "labels": {"run": "php-apache"}},
            "spec": {"nodeName": node, "containers": [{"name": "php-apache", "image": "x"}]},
            "status": {"phase": phase}}))])

    def find(ref: str) -> str:
        args = argparse.Namespace(pod=ref, namespace="default", cluster=str(etcd_clean.cluster.path),
                                  pod_running_timeout="0s")
        return str(pods._find_pod(args, announce=True)[1]["metadata"]["name"])

    assert find("deployment/php-apache") == "php-b"
    assert capsys.readouterr().err == "Found 2 pods, using pod/php-b\n"
    assert find("svc/php-apache") == "php-b"
    assert find("pod/php-a") == find("php-a") == "php-a"
    with pytest.raises(UserError, match='"nope" not found'):
        find("deploy/nope")
    with pytest.raises(UserError, match="selects none"):
        find("configmap/x")
