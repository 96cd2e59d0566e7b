"""The CA: certificates chain to it, carry the SANs and usages asked for, keys are 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubeform import pki
from kubeform.errors import UserError


def test_issue_chains_to_ca_with_sans_and_usages() -> None:
    ca_cert, ca_key = pki.create_ca("test-ca")
    cert_pem, key_pem = pki.issue_cert(
        ca_cert, ca_key, "etcd1", sans=["10.0.0.1", "etcd1.local"], client=True, server=True
    )
    cert = pki.load_cert(cert_pem)
    ca = pki.load_cert(ca_cert)
    cert.verify_directly_issued_by(ca)
    assert pki.common_name(cert_pem) == "etcd1"
    assert sorted(pki.subject_alt_names(cert_pem)) == ["10.0.0.1", "etcd1.local"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku and ExtendedKeyUsageOID.CLIENT_AUTH in eku
    key = pki.load_key(key_pem)
    assert isinstance(key.curve, ec.SECP256R1)


def test_client_only_has_no_server_usage() -> None:
    ca_cert, ca_key = pki.create_ca()
    cert_pem, _ = pki.issue_cert(ca_cert, ca_key, "admin", client=True)
    eku = pki.load_cert(cert_pem).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert pki.subject_alt_names(cert_pem) == []


def test_needs_a_usage() -> None:
    ca_cert, ca_key = pki.create_ca()
    with pytest.raises(ValueError):
        pki.issue_cert(ca_cert, ca_key, "x")


def test_write_key_is_private(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "k.key"
    pki.write_key(p, b"secret")
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert p.read_bytes() == b"secret"


def test_bad_pem_is_user_error() -> None:
    with pytest.raises(UserError):
        pki.load_cert(b"nope")
