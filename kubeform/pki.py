"""A tiny certificate authority for the cluster's TLS.

etcd, the agents and the CLI authenticate each other with client certificates (secure by
default), so ``kubeform up`` needs a CA and a way to issue server, peer and client
certificates. Everything here is built on ``cryptography``; keys are ECDSA P-256 because
they are small, fast and accepted by etcd, Go and OpenSSL alike.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeform.errors import UserError

ORGANIZATION = "kubeform"


def _new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key; one place so every certificate uses the same curve."""
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM without a passphrase: daemons must read it unattended (file is 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    """Subject/issuer name; the organization tells a kubeform cert apart in a trust store."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> datetime.datetime:
    """Backdated by an hour so a host whose clock lags slightly still accepts new certs."""
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    *,
    days: int,
    ca: bool,
) -> x509.CertificateBuilder:
    """What every certificate here has: names, key, serial, validity, constraints, usage.

    Only a CA may sign (keyCertSign, cRLSign, pathlen 0); every certificate may make
    signatures (TLS with ECDSA keys needs digitalSignature, not keyEncipherment).
    """
    start = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


def create_ca(common_name: str = "kubeform-ca", *, days: int = 3650) -> tuple[bytes, bytes]:
    """A self-signed CA (cert PEM, key PEM) that signs every other cluster certificate."""
    key = _new_key()
    name = _name(common_name)
    cert = (
        _builder(name, name, key, days=days, ca=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _san(entries: list[str]) -> list[x509.GeneralName]:
    """IP addresses become IPAddress SANs, everything else DNSName (as TLS clients expect)."""
    names: list[x509.GeneralName] = []
    for entry in entries:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(entry)))
        except ValueError:
            names.append(x509.DNSName(entry))
    return names


def load_cert(pem: bytes) -> x509.Certificate:
    """Parse a PEM certificate; a broken file is the user's problem, said in one line."""
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as err:
        raise UserError(f"not a PEM certificate: {err}") from None


def load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """Parse a PEM EC private key (the only kind this CA creates)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise UserError(f"not a PEM private key: {err}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UserError("the CA key is not an EC key")
    return key


def issue_cert(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    common_name: str,
    *,
    sans: list[str] | None = None,
    client: bool = False,
    server: bool = False,
    days: int = 3650,
) -> tuple[bytes, bytes]:
    """A leaf certificate (cert PEM, key PEM) signed by the CA.

    ``server`` adds serverAuth (etcd client/peer listeners), ``client`` adds clientAuth
    (CLI, agents, etcd peers dialing each other); etcd peers need both.
    """
    if not (client or server):
        raise ValueError("a certificate must be for a client, a server or both")
    ca_cert = load_cert(ca_cert_pem)
    ca_key = load_key(ca_key_pem)
    key = _new_key()
    usages = []
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        _builder(_name(common_name), ca_cert.subject, key, days=days, ca=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(_san(sans)), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def write_key(path: str | Path, pem: bytes) -> None:
    """Write a private key readable only by its owner (0600 from the first byte on)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
    finally:
        os.close(fd)


def write_cert(path: str | Path, pem: bytes) -> None:
    """Write a certificate (public, 0644)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(pem)
    p.chmod(0o644)


def common_name(cert_pem: bytes) -> str:
    """The CN of a certificate, e.g. to name the node an agent cert belongs to."""
    attrs = load_cert(cert_pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = attrs[0].value if attrs else ""
    return value if isinstance(value, str) else value.decode()


def subject_alt_names(cert_pem: bytes) -> list[str]:
    """SANs as strings (IPs and DNS names), for checks and for `kubeform` diagnostics."""
    try:
        ext = load_cert(cert_pem).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    out: list[str] = [str(ip) for ip in ext.value.get_values_for_type(x509.IPAddress)]
    out.extend(ext.value.get_values_for_type(x509.DNSName))
    return out
