"""The daemons' shared config reading (kubeform.api.daemonconfig): one line per mistake,
naming the file and the field."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from kubeform.api import daemonconfig as dc

ETCD = {"endpoints": ["https://10.0.0.11:2379"], "ca_file": "/ca", "cert_file": "/c", "key_file": "/k"}


def test_etcd_settings() -> None:
    got = dc.etcd_settings({"etcd": ETCD}, "f.json")
    assert got == dc.EtcdSettings(["https://10.0.0.11:2379"], "/ca", "/c", "/k")
    assert dc.etcd_settings({"etcd": {"endpoints": ["http://e:2379"]}}, "f.json").ca_file is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "f.json: field 'etcd' must be an object"),
        ({"etcd": {"endpoints": "https://e"}}, "field 'etcd.endpoints' must list at least one"),
        ({"etcd": {"endpoints": [3]}}, "field 'etcd.endpoints': 3 is not an http(s) URL"),
        ({"etcd": {"endpoints": ["https://e"], "ca_file": "/ca"}}, "https endpoints need ca_file, cert_file and key_file"),
        ({"etcd": {**ETCD, "key_file": []}}, "field 'etcd.key_file' must be a string"),
    ],
)
def test_etcd_mistakes(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(dc.ConfigError) as err:
        dc.etcd_settings(raw, "f.json")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("value", "strict", "ok"),
    [(5, True, True), (0.5, True, True), (0, True, False), (0, False, True), (-1, False, False),
     (True, True, False), ("5", True, False), (None, True, False)],
)
def test_number(value: Any, strict: bool, ok: bool) -> None:
    if ok:
        assert dc.number({"n": value}, "n", "f.json", 1, strict=strict) == float(value)
    else:
        with pytest.raises(dc.ConfigError, match=r"f\.json: field 'n' must be"):
            dc.number({"n": value}, "n", "f.json", 1, strict=strict)
    assert dc.number({}, "n", "f.json", 3) == 3.0


def test_strings_and_unknown_fields() -> None:
    assert dc.string({}, "s", "f", "d") == "d"
    with pytest.raises(dc.ConfigError, match="'s' must be a non-empty string"):
        dc.string({"s": ""}, "s", "f", "d")
    assert dc.optional_string({}, "o", "f") is None
    assert dc.string_list({"l": ["a"]}, "l", "f", []) == ["a"]
    with pytest.raises(dc.ConfigError, match="'l' must be a list of strings"):
        dc.string_list({"l": "a"}, "l", "f", [])
    with pytest.raises(dc.ConfigError, match=r"unknown field\(s\): b, c"):
        dc.refuse_unknown({"a": 1, "c": 2, "b": 3}, {"a"}, "f")


@pytest.mark.parametrize(("text", "message"), [("{", "not valid JSON"), ("[]", "must be a JSON object")])
def test_read_object_mistakes(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(dc.ConfigError, match=message):
        dc.read_object(str(path))
    with pytest.raises(dc.ConfigError, match="cannot read"):
        dc.read_object(str(tmp_path / "missing.json"))


def test_log_to_stderr_sets_the_level(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    dc.log_to_stderr(True)
    assert root.level == logging.DEBUG and root.handlers
