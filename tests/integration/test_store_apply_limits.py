"""apply is all or nothing when an object is too large for etcd (issue 11), against a real etcd.

etcd refuses a request over --max-request-bytes (1.5 MiB); found only when its batch was
sent, the batches before it would already be stored. The object is named before any
write, and nothing is stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kubeform.api import kinds
from kubeform.cli.main import main
from kubeform.store.client import Store

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]

pytestmark = pytest.mark.integration


def configmap(name: str, size: int) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: {'x' * size}}}\n"


def test_too_large_object_named_and_nothing_stored(etcd_clean: EtcdServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = [configmap(f"small{i}", 100) for i in range(150)]  # more than one transaction
    docs.insert(140, configmap("huge", 1_200_000))
    f = tmp_path / "m.yaml"
    f.write_text("---\n".join(docs))
    rc = main(["apply", "-f", str(f), "--cluster", str(etcd_clean.cluster.path)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "configmap/huge is too large to store" in err and "nothing was applied" in err and "Traceback" not in err
    store = Store.from_cluster(etcd_clean.cluster)
    assert store.list(kinds.BY_KIND["ConfigMap"], "default") == []


def test_large_objects_split_over_transactions_by_bytes(etcd_clean: EtcdServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("---\n".join(configmap(f"big{i}", 600_000) for i in range(4)))  # 2.4 MB in all
    assert main(["apply", "-f", str(f), "--cluster", str(etcd_clean.cluster.path)]) == 0, capsys.readouterr().err
    store = Store.from_cluster(etcd_clean.cluster)
    assert len(store.list(kinds.BY_KIND["ConfigMap"], "default")) == 4
