"""Object verbs' pure parts (kubeform.cli.objects): describe never passes terminal escapes."""

from __future__ import annotations

import pytest

from kubeform.api import kinds
from kubeform.cli.objects import describe_text, parse_kv_changes
from kubeform.errors import UserError


def test_describe_escapes_control_characters() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "c",
            "namespace": "default",
            "labels": {"app": "web"},
            "annotations": {"note": "\x1b]0;pwned\x07\x1b[2J", "two": "line1\nForged: yes"},
        },
        "data": {"k": "v\x1b[31m"},
    }
    text = describe_text(kinds.BY_KIND["ConfigMap"], obj, [])
    assert "\x1b" not in text and "\x07" not in text
    assert "note=\\x1b]0;pwned\\x07\\x1b[2J" in text
    assert "two=line1\\x0aForged: yes" in text  # one line per annotation, not a forged one


@pytest.mark.parametrize("pair", ["-bad=x", "a/b/c=x", "UPPER.example/x=y", ("k" * 64) + "=v"])
def test_label_keys_checked_as_kubernetes_does(pair: str) -> None:
    with pytest.raises(UserError, match="invalid key"):
        parse_kv_changes([pair])
