"""`kubeform delete pod` waits for the pod it deleted, by uid: a new pod of the same name
(a StatefulSet makes one as soon as the old one is gone) does not keep it waiting."""

from __future__ import annotations

from typing import Any

from kubeform.cli.objects import _still_there, _wait_gone


class _Store:
    def __init__(self, obj: dict[str, Any] | None) -> None:
        self.obj = obj

    def get_raw(self, key: str) -> tuple[dict[str, Any] | None, int]:
        return self.obj, 5 if self.obj else 0


def test_same_uid_is_still_there() -> None:
    assert _still_there(_Store({"metadata": {"uid": "a"}}), "/k", "a")  # type: ignore[arg-type]


def test_other_uid_or_absent_is_gone() -> None:
    assert not _still_there(_Store({"metadata": {"uid": "b"}}), "/k", "a")  # type: ignore[arg-type]
    assert not _still_there(_Store(None), "/k", "a")  # type: ignore[arg-type]
    _wait_gone(_Store({"metadata": {"uid": "new"}}), [("/k", "pod/web-0", "old")], "1s")  # type: ignore[arg-type]
