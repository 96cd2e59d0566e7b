"""rollout status/history/undo/restart and set image decisions (kubeform/store/rollout.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api.rollout import RESTARTED_AT, REVISION
from kubeform.errors import UserError
from kubeform.store import rollout

STATUS = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "store" / "rollout" / "status.yaml").read_text())


@pytest.mark.parametrize("case", STATUS, ids=[c["name"] for c in STATUS])
def test_status(case: dict[str, Any]) -> None:
    got = rollout.status_of(case["deploy"])
    want = case["expect"]
    assert got.done == want["done"]
    assert got.error == want.get("error")
    assert got.message == want.get("message", "")


DEPLOY: dict[str, Any] = {
    "kind": "Deployment",
    "metadata": {"name": "web", "uid": "d1", "annotations": {REVISION: "3"}},
    "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}},
}


def _rs(rev: int, image: str, owner: str = "d1", cause: str | None = None) -> dict[str, Any]:
    ann = {REVISION: str(rev)}
    if cause:
        ann[rollout.CHANGE_CAUSE] = cause
    return {
        "kind": "ReplicaSet",
        "metadata": {"name": f"web-{rev}", "annotations": ann,
                     "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": owner, "controller": True}]},
        "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": f"h{rev}"}},
                              "spec": {"containers": [{"name": "c", "image": image}]}}},
    }


RSS = [_rs(3, "busybox:1.36"), _rs(1, "busybox:latest", cause="first"), _rs(2, "busybox:1.35"), _rs(9, "x", owner="other")]


def test_history_lists_own_revisions_oldest_first() -> None:
    assert rollout.history_table(DEPLOY, RSS) == ["REVISION  CHANGE-CAUSE", "1         first", "2         <none>", "3         <none>"]
    assert rollout.revision_template(DEPLOY, RSS, 2)["spec"]["containers"][0]["image"] == "busybox:1.35"
    with pytest.raises(UserError, match="revision 9"):
        rollout.revision_template(DEPLOY, RSS, 9)


def test_undo_goes_to_the_previous_revision_or_the_one_asked() -> None:
    rev, rs = rollout.undo_target(DEPLOY, RSS)
    assert rev == 2
    new = rollout.rolled_back(DEPLOY, rs)
    assert new is not None
    assert new["spec"]["template"] == {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}
    assert new["metadata"]["annotations"][REVISION] == "3"  # the controller moves it
    assert rollout.undo_target(DEPLOY, RSS, 1)[0] == 1
    with pytest.raises(UserError, match="unable to find specified revision 7"):
        rollout.undo_target(DEPLOY, RSS, 7)
    assert rollout.rolled_back(DEPLOY, RSS[0]) is None  # already that template
    with pytest.raises(UserError, match="no rollout history"):
        rollout.undo_target(DEPLOY, RSS[:1])


def test_restart_stamps_the_template() -> None:
    new = rollout.restarted(DEPLOY, "2026-01-01T12:00:00Z")
    assert new["spec"]["template"]["metadata"]["annotations"] == {RESTARTED_AT: "2026-01-01T12:00:00Z"}
    assert "annotations" not in DEPLOY["spec"]["template"]["metadata"]


def test_set_image() -> None:
    new = rollout.with_images(DEPLOY, rollout.parse_images(["c=busybox:1.35"]))
    assert new["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.35"
    every = rollout.with_images({"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}, {"*": "z"})
    assert [c["image"] for c in every["spec"]["containers"]] == ["z", "z"]
    with pytest.raises(UserError, match='unable to find container named "nope"'):
        rollout.with_images(DEPLOY, {"nope": "x"})
    with pytest.raises(UserError, match="CONTAINER=IMAGE"):
        rollout.parse_images(["c="])
