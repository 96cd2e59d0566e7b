"""Data-driven module tests: facts (as recorded command output) + arguments -> changes.

A case file ``tests/data/modules/<module>/<case>.yml`` holds::

    args: {name: net.ipv4.ip_forward, value: "1"}
    facts:                      # raw output of each fact command, by fact key
      "sysctl:net.ipv4.ip_forward": {stdout: "0\\n", rc: 0}
    changes:                    # expected plan; [] means "already in the desired state"
      - action: change
        summary: set net.ipv4.ip_forward to 1          # optional
        steps: ["sysctl -w net.ipv4.ip_forward=1"]      # Step.describe() of every step
        diff: {label: ..., before: ..., after: ...}     # optional
    result:                     # optional: keys of the registered result (a subset)
      stat: {exists: true}
    # or, for bad arguments:
    error: "substring of the ModuleArgError message"

Facts the module asks for but the case does not give fail the case, so every input of
the pure plan is on record. ``prepared`` (optional) is merged into args as ``prepare``
would (e.g. ``_content`` for copy/template).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from kubeform.modules import lookup
from kubeform.modules.base import Module, ModuleArgError

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "modules"


def case_params(module: str) -> list[Any]:
    """pytest params, one per case file of ``module`` (id = file stem)."""
    files = sorted((DATA / module).glob("*.yml"))
    assert files, f"no cases under {DATA / module}"
    return [pytest.param(f, id=f.stem) for f in files]


def _module(name: str) -> Module:
    cls = lookup(name)
    assert cls is not None, f"module {name!r} is not registered"
    return cls()


def check_case(path: Path, module: str | None = None) -> None:
    """Run one case file and assert the plan matches it."""
    case = yaml.safe_load(path.read_text())
    mod = _module(module or path.parent.name)
    args: dict[str, Any] = dict(case.get("args") or {})
    if "error" not in case or case.get("validate", True):
        public = {k: v for k, v in args.items() if not k.startswith("_")}
        if "error" in case and case.get("schema_error"):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(public, mod.schema)
            return
        jsonschema.validate(public, mod.schema)
    args.update(case.get("prepared") or {})
    given: dict[str, Any] = case.get("facts") or {}
    try:
        facts: dict[str, Any] = {}
        for fact in mod.facts(args):
            assert fact.key in given, f"{path.name}: fact {fact.key!r} ({fact.command}) not in case"
            raw = given[fact.key]
            facts[fact.key] = fact.parse(str(raw.get("stdout", "")), int(raw.get("rc", 0)))
        changes = mod.plan(args, facts)
    except ModuleArgError as err:
        assert "error" in case, f"{path.name}: unexpected error {err}"
        assert case["error"] in str(err), f"{path.name}: {err!s} lacks {case['error']!r}"
        return
    assert "error" not in case, f"{path.name}: expected error {case['error']!r}, got a plan"
    expected = case.get("changes") or []
    got = [
        {
            "action": c.action,
            "summary": c.summary,
            "steps": [s.describe() for s in c.steps],
            "diff": None
            if c.diff is None
            else {"label": c.diff.label, "before": c.diff.before, "after": c.diff.after},
        }
        for c in changes
    ]
    assert len(got) == len(expected), f"{path.name}: got {got}"
    for g, e in zip(got, expected, strict=True):
        assert g["action"] == e["action"], f"{path.name}: {g}"
        if "summary" in e:
            assert g["summary"] == e["summary"], f"{path.name}: {g}"
        assert g["steps"] == e.get("steps", []), f"{path.name}: {g}"
        if "diff" in e:
            assert g["diff"] == e["diff"], f"{path.name}: {g}"
    if "result" in case:
        registered = mod.result(args, facts, [])
        _assert_subset(case["result"], registered, path.name)


def _assert_subset(expected: Any, got: Any, where: str) -> None:
    """Every key of ``expected`` (recursively in mappings and lists of mappings) has the same value in ``got``."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), f"{where}: expected a mapping, got {got!r}"
        for key, value in expected.items():
            assert key in got, f"{where}: {key!r} missing from {sorted(got)}"
            _assert_subset(value, got[key], f"{where}: {key}")
    elif isinstance(expected, list) and expected and all(isinstance(e, dict) for e in expected):
        # A list of mappings: as many items, each a subset of the item at its place.
        assert isinstance(got, list) and len(got) == len(expected), f"{where}: {got!r} != {expected!r}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            _assert_subset(e, g, f"{where}[{i}]")
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"
