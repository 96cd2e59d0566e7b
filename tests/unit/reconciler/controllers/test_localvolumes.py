"""The local-path provisioner and releaser: state in, actions out
(tests/data/reconciler/controllers/localvolumes/provision.yaml and release.yaml)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubeform.reconciler.config import ReconcilerConfig
from kubeform.reconciler.controllers import CONTROLLERS, localvolumes
from kubeform.reconciler.machinery.actions import Action, Create, CreateEvent, Put
from kubeform.reconciler.machinery.cache import Cache, Change, Item

from .casefile import DATA, NOW

CASES = DATA / "localvolumes"


def _cases(name: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load((CASES / name).read_text()))


def summary(action: Action) -> dict[str, Any]:
    if isinstance(action, Create):
        return {"create": action.obj}
    if isinstance(action, CreateEvent):
        return {"event": {"reason": action.reason, "message": action.message}}
    assert isinstance(action, Put)
    if action.key.startswith(localvolumes.VOLUMES):
        return {"put": {"key": action.key, "expect_mod_revision": action.expect_mod_revision, "phase": action.obj["status"]["phase"]}}
    return {
        "put": {
            "key": action.key,
            "expect_mod_revision": action.expect_mod_revision,
            "volumeName": action.obj["spec"].get("volumeName"),
            "annotations": action.obj["metadata"].get("annotations"),
            "status": action.obj.get("status"),
        }
    }


@pytest.mark.parametrize("case", _cases("provision.yaml"), ids=lambda c: c["name"])
def test_provision(case: dict[str, Any]) -> None:
    view = Cache.from_objects(case["view"])
    actions = localvolumes.sync_claim(case["sync"], view, NOW, localvolumes.DEFAULT_ROOT)
    if "expect_volume" in case:
        created = [a.obj for a in actions if isinstance(a, Create)]
        assert len(created) == 1
        spec = created[0]["spec"]
        assert {k: spec[k] for k in case["expect_volume"]} == case["expect_volume"]
        return
    assert [summary(a) for a in actions] == case["expect"]


@pytest.mark.parametrize("case", _cases("release.yaml"), ids=lambda c: c["name"])
def test_release(case: dict[str, Any]) -> None:
    view = Cache.from_objects(case["view"])
    assert [summary(a) for a in localvolumes.sync_volume(case["sync"], view, NOW)] == case["expect"]


def test_root_comes_from_the_reconciler_config() -> None:
    cfg = ReconcilerConfig({"etcd": {"endpoints": ["http://127.0.0.1:2379"]}, "local_volume_root": "/srv/vols"})
    controllers = localvolumes.with_root(list(CONTROLLERS), cfg.local_volume_root)
    provisioner = next(c for c in controllers if c.name == "localvolumes")
    claim = {"metadata": {"name": "d", "namespace": "default", "uid": "u", "resourceVersion": "2",
                          "annotations": {"volume.kubernetes.io/selected-node": "n1"}},
             "spec": {"storageClassName": "local-path"}}
    view = Cache.from_objects({"/registry/persistentvolumeclaims/default/d": claim})
    created = next(a for a in provisioner.sync("/registry/persistentvolumeclaims/default/d", view, NOW) if isinstance(a, Create))
    assert created.obj["spec"]["hostPath"]["path"] == "/srv/vols/pvc-u_default_d"
    assert [c.name for c in controllers] == [c.name for c in CONTROLLERS]


def test_related() -> None:
    view = Cache.from_objects({
        "/registry/persistentvolumeclaims/default/a": {"metadata": {"name": "a"}, "spec": {}},
        "/registry/persistentvolumeclaims/default/b": {"metadata": {"name": "b"}, "spec": {"volumeName": "pvc-b"}},
        "/registry/persistentvolumes/pvc-b": {"metadata": {"name": "pvc-b"}, "spec": {"claimRef": {"namespace": "default", "name": "b"}}},
    })
    pv = Item("/registry/persistentvolumes/pvc-b", view.get("/registry/persistentvolumes/pvc-b").obj, 3)  # type: ignore[union-attr]
    assert localvolumes.related_claims(Change(pv.key, None, pv), view) == ["/registry/persistentvolumeclaims/default/b"]
    sc = Item("/registry/storageclasses/x", {"metadata": {"name": "x"}}, 3)
    assert localvolumes.related_claims(Change(sc.key, None, sc), view) == ["/registry/persistentvolumeclaims/default/a"]
    claim = Item("/registry/persistentvolumeclaims/default/b", {}, 4)
    assert localvolumes.related_volumes(Change(claim.key, claim, None), view) == ["/registry/persistentvolumes/pvc-b"]
