"""The etcd test helper itself: TLS with client certs really is enforced."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]  # one etcd for the whole run

pytestmark = pytest.mark.integration


def test_put_get_with_admin_cert(etcd_clean: EtcdServer) -> None:
    c = etcd_clean.client()
    c.put("/k", "v")
    assert c.get("/k") == [b"v"]


def test_refuses_client_without_certificate(etcd_tls: EtcdServer) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.post(
            f"{etcd_tls.endpoint}/v3/kv/range",
            json={"key": "Lw=="},
            verify=str(etcd_tls.cluster.ca_cert),
            timeout=5,
        )
