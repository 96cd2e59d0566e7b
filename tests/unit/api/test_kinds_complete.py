"""Every kind in the kinds table has what the CLI needs: adding a kind is one row plus these.

A kind users apply needs its server-side defaults (kubeform/api/defaults.py ``_BY_KIND``,
an entry even when there is nothing to default), its printer columns (kubeform/store/
printers.py ``_columns``) and its validation schema (kubeform/data/schemas/kinds/
<kind>.schema.json, read by kubeform/store/validation.py). A read-only kind (written by the
agents or the reconciler, never applied) needs its columns only.
"""

from __future__ import annotations

import pytest

from kubeform.api import defaults, kinds
from kubeform.store import printers, validation

KINDS = [k.kind for k in kinds.KINDS]


@pytest.mark.parametrize("name", KINDS)
def test_kind_has_printer_columns(name: str) -> None:
    headers, _, _ = printers._columns(name)
    assert headers, f"kind {name} has no printer columns: add a branch to _columns in kubeform/store/printers.py"


@pytest.mark.parametrize("name", [k.kind for k in kinds.KINDS if not k.read_only])
def test_kind_has_defaults_entry(name: str) -> None:
    assert name in defaults._BY_KIND, (
        f"kind {name} has no defaults entry: add it to _BY_KIND in kubeform/api/defaults.py "
        "(a function that defaults nothing is fine)"
    )


@pytest.mark.parametrize("name", [k.kind for k in kinds.KINDS if not k.read_only])
def test_kind_has_validation_schema(name: str) -> None:
    kind = kinds.BY_KIND[name]
    try:
        validation.validator(name)
    except Exception as err:  # referencing raises its own lookup errors
        raise AssertionError(
            f"kind {name} has no validation schema: add kubeform/data/schemas/kinds/{kind.schema_file} ({err})"
        ) from None
