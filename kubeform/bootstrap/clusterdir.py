"""The operator's cluster directory: where to reach etcd and with which certificates.

``kubeform up`` writes it, every other verb reads it, so the same commands work against
the lab and against real machines. Layout (``.kubeform/<cluster>/`` by default)::

    cluster.yml        name, etcd endpoints (https://IP:2379), optional ssh_tunnel host
    pki/ca.crt ca.key  the cluster CA (key 0600)
    pki/admin.crt .key the CLI's client certificate
    pki/<name>.crt .key certificates issued for etcd members and agents

Which directory: ``--cluster DIR`` (or a cluster name under ./.kubeform), else the
environment variable ``KUBEFORM_CLUSTER``, else the only directory under ./.kubeform.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubeform import yamlsrc
from kubeform.errors import UserError
from kubeform.keyfiles import private_key_problem

ENV_VAR = "KUBEFORM_CLUSTER"
DEFAULT_ROOT = Path(".kubeform")
CONFIG_FILE = "cluster.yml"


@dataclass
class ClusterDir:
    """A loaded cluster directory; paths are absolute so a chdir does not break them."""

    path: Path
    name: str
    endpoints: list[str]
    ssh_tunnel: str | dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- paths -----------------------------------------------------------------------
    @property
    def pki_dir(self) -> Path:
        return self.path / "pki"

    @property
    def ca_cert(self) -> Path:
        return self.pki_dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.pki_dir / "ca.key"

    @property
    def admin_cert(self) -> Path:
        return self.pki_dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.pki_dir / "admin.key"

    def secret_digest_key(self) -> bytes:
        """The key for Secret value hashes in diffs and output (see render.secret_digest).

        Derived from the CA key, so hashes are stable for one cluster but cannot be looked
        up without the key; a directory without ca.key gets a per-process random key
        (hashes then only compare within one command's output).
        """
        try:
            material = self.ca_key.read_bytes()
        except OSError:
            material = os.urandom(32)
        return hashlib.sha256(b"kubeform secret digest v1\0" + material).digest()

    def cert_paths(self, name: str) -> tuple[Path, Path]:
        """Where the certificate and key issued for ``name`` live."""
        return self.pki_dir / f"{name}.crt", self.pki_dir / f"{name}.key"

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> ClusterDir:
        """Read ``cluster.yml`` and check the PKI files are there."""
        root = Path(path).resolve()
        config_path = root / CONFIG_FILE
        if not config_path.is_file():
            raise UserError(
                "not a kubeform cluster directory (no cluster.yml)",
                file=str(root),
                hint="run `kubeform up` or pass --cluster DIR",
            )
        data = yamlsrc.load_file(config_path)
        if not isinstance(data, dict):
            raise UserError("expected a mapping", file=str(config_path), line=1)
        name = data.get("name")
        endpoints = data.get("endpoints")
        if not isinstance(name, str) or not name:
            raise UserError(
                "must be a non-empty string",
                file=str(config_path),
                line=yamlsrc.line_of(data, "name"),
                field="name",
            )
        if (
            not isinstance(endpoints, list)
            or not endpoints
            or not all(isinstance(e, str) and e.startswith(("https://", "http://")) for e in endpoints)
        ):
            raise UserError(
                "must be a list of URLs like https://10.0.0.1:2379",
                file=str(config_path),
                line=yamlsrc.line_of(data, "endpoints"),
                field="endpoints",
            )
        tunnel = data.get("ssh_tunnel")
        if tunnel is not None and not isinstance(tunnel, str | dict):
            raise UserError(
                "must be a host name (user@host[:port]) or a mapping of ansible_* variables",
                file=str(config_path),
                line=yamlsrc.line_of(data, "ssh_tunnel"),
                field="ssh_tunnel",
            )
        extra = {k: v for k, v in data.items() if k not in ("name", "endpoints", "ssh_tunnel")}
        if isinstance(tunnel, dict):
            tunnel = {str(k): v for k, v in tunnel.items()}
        cd = cls(root, name, [str(e) for e in endpoints], tunnel, dict(extra))
        for p in (cd.ca_cert, cd.admin_cert, cd.admin_key):
            if not p.is_file():
                raise UserError("missing certificate file", file=str(p), hint="re-run `kubeform up`")
        for key in sorted(cd.pki_dir.glob("*.key")):
            problem = private_key_problem(key)
            if problem is not None:
                raise UserError(problem, hint="as ssh does, kubeform uses no private key others can read")
        return cd

    @classmethod
    def find(cls, explicit: str | None = None, *, cwd: Path | None = None) -> ClusterDir:
        """The directory the user means: explicit > $KUBEFORM_CLUSTER > the only ./.kubeform/*."""
        base = cwd or Path.cwd()
        chosen = explicit or os.environ.get(ENV_VAR) or None
        if chosen:
            p = Path(chosen)
            if not p.is_absolute():
                p = base / p
            if not (p / CONFIG_FILE).is_file() and (base / DEFAULT_ROOT / chosen / CONFIG_FILE).is_file():
                p = base / DEFAULT_ROOT / chosen
            return cls.load(p)
        root = base / DEFAULT_ROOT
        candidates = sorted(d for d in root.glob("*") if (d / CONFIG_FILE).is_file()) if root.is_dir() else []
        if len(candidates) == 1:
            return cls.load(candidates[0])
        if not candidates:
            raise UserError(
                "no cluster found",
                hint=f"run `kubeform up` first, or pass --cluster DIR, or set {ENV_VAR}",
            )
        names = ", ".join(d.name for d in candidates)
        raise UserError(
            f"several clusters under {root}: {names}",
            hint=f"pick one with --cluster NAME or {ENV_VAR}",
        )

    # -- creating --------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        name: str,
        endpoints: list[str],
        *,
        ssh_tunnel: str | dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ClusterDir:
        """Create (or update) a cluster directory; the CA and admin cert are made once.

        Re-running keeps existing keys so certificates already on hosts stay valid; only
        cluster.yml is rewritten (endpoints may change as masters are added).
        """
        from kubeform import pki  # cryptography: only where certificates are made

        root = Path(path).resolve()
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
        cd = cls(root, name, list(endpoints), ssh_tunnel, dict(extra or {}))
        cd.pki_dir.mkdir(exist_ok=True)
        cd.pki_dir.chmod(0o700)
        if not (cd.ca_cert.is_file() and cd.ca_key.is_file()):
            cert, key = pki.create_ca(f"kubeform-ca-{name}")
            pki.write_key(cd.ca_key, key)
            pki.write_cert(cd.ca_cert, cert)
        if not (cd.admin_cert.is_file() and cd.admin_key.is_file()):
            cert, key = pki.issue_cert(
                cd.ca_cert.read_bytes(), cd.ca_key.read_bytes(), "admin", client=True
            )
            pki.write_key(cd.admin_key, key)
            pki.write_cert(cd.admin_cert, cert)
        cd.save()
        return cd

    def save(self) -> None:
        """Write cluster.yml (plain YAML a person can read and edit)."""
        data: dict[str, Any] = {"name": self.name, "endpoints": self.endpoints}
        if self.ssh_tunnel:
            data["ssh_tunnel"] = self.ssh_tunnel
        data.update(self.extra)
        (self.path / CONFIG_FILE).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def issue(
        self, name: str, sans: list[str], *, client: bool = True, server: bool = True
    ) -> tuple[bytes, bytes]:
        """Certificate + key for an etcd member or agent, kept under pki/<name>.*.

        Idempotent: an existing certificate with the same SANs and usages is returned as
        is, so re-running `kubeform up` does not churn certificates on the hosts.
        """
        from kubeform import pki

        cert_path, key_path = self.cert_paths(name)
        if cert_path.is_file() and key_path.is_file():
            existing = cert_path.read_bytes()
            if sorted(pki.subject_alt_names(existing)) == sorted(sans) and pki.common_name(
                existing
            ) == name and _usages(existing) == (client, server):
                return existing, key_path.read_bytes()
        cert, key = pki.issue_cert(
            self.ca_cert.read_bytes(),
            self.ca_key.read_bytes(),
            name,
            sans=sans,
            client=client,
            server=server,
        )
        pki.write_key(key_path, key)
        pki.write_cert(cert_path, cert)
        return cert, key


def _usages(cert_pem: bytes) -> tuple[bool, bool]:
    """(clientAuth, serverAuth) of a certificate, to decide whether it can be reused."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from kubeform import pki

    try:
        eku = pki.load_cert(cert_pem).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return (False, False)
    return (ExtendedKeyUsageOID.CLIENT_AUTH in eku.value, ExtendedKeyUsageOID.SERVER_AUTH in eku.value)
