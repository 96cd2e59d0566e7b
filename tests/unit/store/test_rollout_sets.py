"""rollout status/history/undo of DaemonSets and StatefulSets (kubeform/store/rollout_sets.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.store import rollout, rollout_sets

STATUS = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "store" / "rollout" / "sets_status.yaml").read_text())


@pytest.mark.parametrize("case", STATUS, ids=[c["name"] for c in STATUS])
def test_status(case: dict[str, Any]) -> None:
    got = rollout_sets.status_of(case["kind"], case["obj"])
    want = case["expect"]
    assert got.done == want["done"]
    assert got.error == want.get("error")
    assert got.message == want.get("message", "")


DS: dict[str, Any] = {
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "uid": "d1"},
    "spec": {"template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}},
}


def _cr(rev: int, image: str, owner: str = "d1", cause: str | None = None) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": image}]}, "$patch": "replace"}
    ann = {rollout.CHANGE_CAUSE: cause} if cause else {}
    return {
        "kind": "ControllerRevision",
        "metadata": {"name": f"agent-{rev}", "annotations": ann,
                     "ownerReferences": [{"kind": "DaemonSet", "name": "agent", "uid": owner, "controller": True}]},
        "data": {"spec": {"template": template}},
        "revision": rev,
    }


CRS = [_cr(3, "busybox:1.36"), _cr(1, "busybox:latest", cause="first"), _cr(2, "busybox:1.35"), _cr(9, "x", owner="other")]


def test_history_lists_own_revisions_oldest_first() -> None:
    assert rollout_sets.history_table(DS, CRS) == ["REVISION  CHANGE-CAUSE", "1         first", "2         <none>", "3         <none>"]
    template = rollout_sets.revision_template(DS, CRS, 2)
    assert template["spec"]["containers"][0]["image"] == "busybox:1.35"
    assert "$patch" not in template
    with pytest.raises(UserError, match="revision 9"):
        rollout_sets.revision_template(DS, CRS, 9)


def test_undo_goes_to_the_second_highest_revision_or_the_one_asked() -> None:
    rev, cr = rollout_sets.undo_target(DS, CRS)
    assert rev == 2
    new = rollout_sets.rolled_back(DS, cr)
    assert new is not None and new["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.35"
    assert DS["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.36"  # not changed in place
    assert rollout_sets.undo_target(DS, CRS, 1)[0] == 1
    assert rollout_sets.rolled_back(DS, CRS[0]) is None  # already that template
    with pytest.raises(UserError, match="unable to find specified revision 7 in history"):
        rollout_sets.undo_target(DS, CRS, 7)
    with pytest.raises(UserError, match="unable to find specified revision 0 in history"):
        rollout_sets.undo_target(DS, CRS[:1])
