"""The object verbs end to end against a real TLS etcd: apply, read back, diff, get, delete.

Manifests are the Kubernetes documentation's own examples (tests/data/manifests); each
must validate, apply, read back equal to what was written (modulo defaults and server
metadata), and diff empty right after apply.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kubeform.api import defaults, kinds
from kubeform.cli.main import main
from kubeform.store.client import Store
from kubeform.store.manifests import load_sources

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]  # one etcd for the whole run

pytestmark = pytest.mark.integration

MANIFESTS = Path(__file__).parent.parent / "data" / "manifests"
FILES = sorted(p.name for p in MANIFESTS.iterdir())


def run(capsys: pytest.CaptureFixture[str], etcd: EtcdServer, *argv: str) -> tuple[int, str, str]:
    rc = main([*argv, "--cluster", str(etcd.cluster.path)])
    out, err = capsys.readouterr()
    return rc, out, err


def is_subset(want: Any, have: Any, path: str = "") -> list[str]:
    """Paths where ``have`` does not contain ``want`` (lists compared item by item)."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [path]
        out = []
        for k, v in want.items():
            out += is_subset(v, have.get(k), f"{path}.{k}") if k in have else [f"{path}.{k}"]
        return out
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return [path]
        return [p for i, (a, b) in enumerate(zip(want, have, strict=True)) for p in is_subset(a, b, f"{path}[{i}]")]
    return [] if want == have else [path]


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """What the manifest says, in the stored form (conversions the API server does too)."""
    d = defaults.plain(doc)
    if d.get("apiVersion") == "autoscaling/v1":
        d = defaults.hpa_v1_to_v2(d)
    if d.get("kind") == "Secret" and "stringData" in d:
        d.setdefault("data", {}).update(
            {k: base64.b64encode(v.encode()).decode() for k, v in d.pop("stringData").items()}
        )
    return d


def create_system_namespace(capsys: pytest.CaptureFixture[str], etcd: EtcdServer) -> None:
    """The documentation's DaemonSet lives in kube-system, which `kubeform up` creates."""
    assert run(capsys, etcd, "create", "namespace", "kube-system")[0] == 0


@pytest.mark.parametrize("name", FILES)
def test_apply_read_back_diff_empty(
    name: str,
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(MANIFESTS / name)
    create_system_namespace(capsys, etcd_clean)
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", path)
    assert rc == 0, err
    docs = load_sources([path])
    assert out.count(" created") == len(docs)
    store = Store.from_cluster(etcd_clean.cluster)
    for doc in docs:
        kind = kinds.for_manifest(doc.data["apiVersion"], doc.data["kind"])
        meta = doc.data["metadata"]
        live = store.get(kind, meta.get("namespace", "default"), meta["name"])
        assert live is not None
        assert is_subset(comparable(doc.data), live) == []
        assert live["metadata"]["uid"] and live["metadata"]["creationTimestamp"]
        assert int(live["metadata"]["resourceVersion"]) > 0
    rc, out, err = run(capsys, etcd_clean, "diff", "-f", path)
    assert rc == 0, out + err
    assert out == ""
    rc, out, _ = run(capsys, etcd_clean, "apply", "-f", path)
    assert rc == 0 and out.count(" unchanged") == len(docs)


def test_directory_apply_and_get(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    create_system_namespace(capsys, etcd_clean)
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(MANIFESTS))
    assert rc == 0, err
    assert "deployment.apps/nginx-deployment created" in out
    rc, out, _ = run(capsys, etcd_clean, "get", "deploy")
    assert out.splitlines()[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert any(line.startswith("nginx-deployment ") and " 0/3 " in line for line in out.splitlines())
    rc, out, _ = run(capsys, etcd_clean, "get", "svc", "-o", "json")
    ips = [i["spec"]["clusterIP"] for i in json.loads(out)["items"]]
    real = [ip for ip in ips if ip != "None"]
    assert len(set(real)) == len(real) and "10.96.0.1" not in real
    rc, out, _ = run(capsys, etcd_clean, "get", "ds", "-A", "-l", "k8s-app in (fluentd-logging)")
    assert "kube-system" in out and "fluentd-elasticsearch" in out
    rc, out, _ = run(capsys, etcd_clean, "get", "secret", "mysecret", "-o", "yaml")
    assert "YWRtaW4=" not in out and "sha256:" in out
    rc, out, _ = run(capsys, etcd_clean, "get", "secret", "mysecret", "-o", "yaml", "--show-secrets")
    assert "YWRtaW4=" in out
    rc, out, _ = run(capsys, etcd_clean, "diff", "-f", str(MANIFESTS))
    assert rc == 0, out


def test_diff_shows_change_and_hides_secrets(
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    src = (MANIFESTS / "config-and-secret.yaml").read_text()
    assert run(capsys, etcd_clean, "apply", "-f", str(MANIFESTS / "config-and-secret.yaml"))[0] == 0
    changed = tmp_path / "c.yaml"
    changed.write_text(src.replace("MWYyZDFlMmU2N2Rm", "bmV3cGFzc3dvcmQ=").replace('"3"', '"4"'))
    rc, out, _ = run(capsys, etcd_clean, "diff", "-f", str(changed))
    assert rc == 1
    assert "-  player_initial_lives: '3'" in out and "+  player_initial_lives: '4'" in out
    assert "MWYyZDFlMmU2N2Rm" not in out and "bmV3cGFzc3dvcmQ=" not in out
    assert "<secret sha256:" in out
    assert "2 to change" in out


def test_invalid_document_stores_nothing(
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (MANIFESTS / "nginx-deployment.yaml").read_text()
        + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: eighty\n"
    )
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", str(bad))
    assert rc == 1
    assert "bad.yaml (document 2):30: spec.ports[0].port" in err
    assert out == ""
    assert etcd_clean.client().get_prefix("/registry/") == []


def test_duplicate_names_refused(
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    text = (MANIFESTS / "job-pi.yaml").read_text()
    dup = tmp_path / "dup.yaml"
    dup.write_text(text + "---\n" + text)
    rc, _, err = run(capsys, etcd_clean, "apply", "-f", str(dup))
    assert rc == 1 and "duplicate Job default/pi" in err and "(document 2):18: metadata.name" in err


def test_scale_label_annotate_delete_cascade(
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, etcd_clean, "apply", "-f", str(MANIFESTS / "nginx-deployment.yaml"))[0] == 0
    store = Store.from_cluster(etcd_clean.cluster)
    deploy = kinds.resolve("deploy")
    live = store.get(deploy, "default", "nginx-deployment")
    assert live is not None
    # a ReplicaSet owned by the Deployment, as the reconciler would create it
    rs = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "nginx-deployment-abc", "namespace": "default", "uid": "rs-uid",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                          "name": "nginx-deployment", "uid": live["metadata"]["uid"],
                                          "controller": True}]},
        "spec": live["spec"],
    }  # fmt: skip
    etcd_clean.client().put("/registry/replicasets/default/nginx-deployment-abc", json.dumps(rs))
    rc, out, _ = run(capsys, etcd_clean, "scale", "deploy/nginx-deployment", "--replicas", "5")
    assert rc == 0 and "scaled" in out
    after = store.get(deploy, "default", "nginx-deployment")
    assert after is not None
    assert after["spec"]["replicas"] == 5 and after["metadata"]["generation"] == 2
    rc, _, err = run(capsys, etcd_clean, "label", "deploy", "nginx-deployment", "app=web")
    assert rc == 1 and "--overwrite" in err
    rc, out, _ = run(capsys, etcd_clean, "label", "deploy", "nginx-deployment", "app=web", "tier=fe", "--overwrite")
    assert rc == 0
    rc, out, _ = run(capsys, etcd_clean, "annotate", "deploy", "nginx-deployment", "note=hello")
    assert rc == 0
    rc, out, _ = run(capsys, etcd_clean, "get", "deploy", "-l", "app=web,tier", "-o", "name")
    assert out == "deployment.apps/nginx-deployment\n"
    rc, out, _ = run(capsys, etcd_clean, "label", "deploy", "nginx-deployment", "tier-")
    rc, out, _ = run(capsys, etcd_clean, "get", "deploy", "-l", "tier", "-o", "name")
    assert out == ""
    rc, out, _ = run(capsys, etcd_clean, "describe", "deploy", "nginx-deployment")
    assert "note=hello" in out and "replicaset.apps/nginx-deployment-abc" in out
    rc, out, _ = run(capsys, etcd_clean, "delete", "deploy", "nginx-deployment")
    # the owner only: its ReplicaSet is the reconciler's garbage collector's to delete
    assert rc == 0 and out == "deployment.apps/nginx-deployment deleted\n"
    assert etcd_clean.client().get("/registry/deployments/default/nginx-deployment") == []
    assert etcd_clean.client().get("/registry/replicasets/default/nginx-deployment-abc")


def test_create_verbs(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "app.conf"
    f.write_text("x=1\n")
    assert run(capsys, etcd_clean, "create", "namespace", "team")[0] == 0
    rc, out, err = run(capsys, etcd_clean, "create", "secret", "generic", "db", "-n", "team",
                       "--from-literal", "password=s3cret", "--from-file", str(f))  # fmt: skip
    assert rc == 0, err
    rc, out, err = run(capsys, etcd_clean, "create", "configmap", "cfg", "-n", "team", "--from-file", f"conf={f}")
    assert rc == 0, err
    rc, out, _ = run(capsys, etcd_clean, "get", "cm", "cfg", "-n", "team", "-o", "json")
    assert json.loads(out)["data"] == {"conf": "x=1\n"}
    rc, out, _ = run(capsys, etcd_clean, "get", "secret", "-n", "team")
    assert "db" in out and "Opaque" in out
    rc, out, _ = run(capsys, etcd_clean, "describe", "secret", "db", "-n", "team")
    assert "password:  6 bytes" in out and "s3cret" not in out
    rc, _, err = run(capsys, etcd_clean, "create", "namespace", "team")
    assert rc == 1 and "already exists" in err
    rc, out, _ = run(capsys, etcd_clean, "delete", "ns", "team", "--wait=false")
    assert out == "namespace/team deleted\n"  # Terminating until the reconciler empties it
    rc, out, _ = run(capsys, etcd_clean, "get", "ns", "team")
    assert "Terminating" in out


def test_nodes_view(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    c = etcd_clean.client()
    node = {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node1", "labels": {"node-role.kubernetes.io/master": ""},
                     "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {"nodeInfo": {"kernelVersion": "5.10.0"}},
    }  # fmt: skip
    c.put("/registry/minions/node1", json.dumps(node))
    node2 = dict(node, metadata={"name": "node2"})
    c.put("/registry/minions/node2", json.dumps(node2))
    lease = c.lease(60)
    c.put("/registry/leases/kube-node-lease/node1", json.dumps({"spec": {"holderIdentity": "node1"}}), lease=lease)
    rc, out, _ = run(capsys, etcd_clean, "get", "no")
    assert rc == 0
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["NAME", "STATUS", "ROLES", "SUBNET", "KERNEL", "AGE"]
    assert lines[1][:5] == ["node1", "Ready", "master", "10.244.1.0/24", "5.10.0"]
    assert lines[2][:2] == ["node2", "NotReady"]
    lease.revoke()


def test_examples_apply_strictly(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    examples = str(Path(__file__).parent.parent.parent / "examples")
    rc, out, err = run(capsys, etcd_clean, "apply", "--strict", "-f", examples)
    assert rc == 0 and err == "", err
    assert "namespace/demo created" in out and "deployment.apps/web created" in out
    rc, out, err = run(capsys, etcd_clean, "diff", "-f", examples)
    assert rc == 0, out + err
    rc, out, _ = run(capsys, etcd_clean, "get", "svc", "web", "-n", "demo")
    assert "80:30080/TCP" in out


def test_bad_input_messages(
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad_yaml = tmp_path / "broken.yaml"
    bad_yaml.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n")
    rc, _, err = run(capsys, etcd_clean, "apply", "-f", str(bad_yaml))
    assert rc == 1 and "broken.yaml:" in err and "invalid YAML" in err
    rc, out, err = run(capsys, etcd_clean, "diff", "-f", str(bad_yaml))
    assert rc == 2 and "invalid YAML" in err
    rc, _, err = run(capsys, etcd_clean, "get", "widgets")
    assert rc == 1 and "unknown resource type 'widgets'" in err
    rc, _, err = run(capsys, etcd_clean, "get", "deploy", "nope")
    assert rc == 1 and 'deployment.apps "nope" not found' in err
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "from-stdin"}}'))
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", "-")
    assert rc == 0 and out == "configmap/from-stdin created\n", err
    rc, out, err = run(capsys, etcd_clean, "get", "cm", "-o", "name")
    assert out == "configmap/from-stdin\n"


def test_diff_and_dry_run_say_what_the_cluster_will_do(
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    src = (MANIFESTS / "nginx-deployment.yaml").read_text()
    assert run(capsys, etcd_clean, "apply", "-f", str(MANIFESTS / "nginx-deployment.yaml"))[0] == 0
    changed = tmp_path / "d.yaml"
    changed.write_text(src.replace("nginx:1.14.2", "nginx:1.16.1"))
    rc, out, _ = run(capsys, etcd_clean, "diff", "-f", str(changed))
    assert rc == 1
    assert "what the cluster will do:\n  deployment.apps/nginx-deployment: rolling update, 3 pods replaced (maxSurge 1, maxUnavailable 0) (nginx: nginx:1.14.2 -> nginx:1.16.1)\n" in out
    rc, out, _ = run(capsys, etcd_clean, "apply", "--dry-run", "-f", str(changed))
    assert rc == 0
    assert "deployment.apps/nginx-deployment configured (dry run)" in out
    assert "rolling update, 3 pods replaced" in out


def test_apply_on_a_terminal_shows_the_plan_and_asks(
    etcd_clean: EtcdServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kubeform.cli import objects as objects_cli

    monkeypatch.setattr(objects_cli, "_interactive", lambda: True)
    path = str(MANIFESTS / "nginx-deployment.yaml")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    rc, out, err = run(capsys, etcd_clean, "apply", "-f", path)
    assert rc == 1 and "nothing applied" in err
    assert "deployment.apps/nginx-deployment created" in out and "3 pods created" in out
    assert Store.from_cluster(etcd_clean.cluster).get(kinds.BY_KIND["Deployment"], "default", "nginx-deployment") is None
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert run(capsys, etcd_clean, "apply", "-f", path)[0] == 0
    assert Store.from_cluster(etcd_clean.cluster).get(kinds.BY_KIND["Deployment"], "default", "nginx-deployment") is not None
    rc, out, _ = run(capsys, etcd_clean, "apply", "-y", "-f", path)
    assert rc == 0 and "unchanged" in out and "what the cluster" not in out
