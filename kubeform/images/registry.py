"""A client of the registry HTTP API v2 (the distribution spec), just what kubeform needs.

Why pure Python: the operator's machine needs no skopeo or docker to fill the cluster
registry; `requests` already comes with kubeform. Uploads are monolithic (POST for an
upload URL, one PUT with the whole blob, streamed from the archive); blobs the registry
already has are skipped after a HEAD. Every failure becomes one UserError line naming the
registry's own error code and message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import quote, urljoin

import requests

from kubeform.errors import UserError

#: Page size for the catalog and tag lists.
PAGE = 1000


class RegistryClient:
    """One registry at ``base_url`` (https://host:port) through a prepared session."""

    def __init__(self, base_url: str, session: requests.Session, *, label: str | None = None,
                 timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.label = label or self.base_url
        self.timeout = timeout

    # -- plumbing ------------------------------------------------------------------------
    def _request(self, method: str, url: str, *, ok: tuple[int, ...], what: str, **kw: Any) -> requests.Response:
        if not url.startswith(("http://", "https://")):
            url = urljoin(self.base_url + "/", url.lstrip("/"))
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kw)
        except requests.exceptions.SSLError as err:
            raise UserError(
                f"cannot {what}: TLS verification of the registry {self.label} failed ({_reason(err)})",
                hint="is the certificate issued by this cluster's CA? re-run `kubeform up`",
            ) from None
        except requests.exceptions.RequestException as err:
            raise UserError(f"cannot reach the registry {self.label} to {what}: {_reason(err)}",
                            hint="is the cluster up? (the registry runs on the first master, port 5000)") from None
        if resp.status_code not in ok:
            raise UserError(f"cannot {what}: {registry_error(resp)}")
        return resp

    # -- reads -------------------------------------------------------------------------------
    def ping(self) -> None:
        """GET /v2/: the registry answers the API."""
        self._request("GET", "/v2/", ok=(200,), what="talk to the registry")

    def blob_exists(self, repo: str, digest: str) -> bool:
        resp = self._request("HEAD", f"/v2/{repo}/blobs/{digest}", ok=(200, 404), what=f"check blob {digest[:19]}")
        return resp.status_code == 200

    def catalog(self) -> list[str]:
        """Every repository (all pages of /v2/_catalog)."""
        out: list[str] = []
        for page in self._pages(f"/v2/_catalog?n={PAGE}", what="list repositories"):
            out.extend(str(r) for r in page.get("repositories") or [])
        return out

    def tags(self, repo: str) -> list[str]:
        """The repository's tags (a repository whose tags were all deleted has none)."""
        out: list[str] = []
        for page in self._pages(f"/v2/{repo}/tags/list?n={PAGE}", what=f"list the tags of {repo}", missing_ok=True):
            out.extend(str(t) for t in page.get("tags") or [])
        return out

    def _pages(self, url: str, *, what: str, missing_ok: bool = False) -> Iterator[dict[str, Any]]:
        next_url: str | None = url
        while next_url:
            resp = self._request("GET", next_url, ok=(200, 404) if missing_ok else (200,), what=what)
            if resp.status_code == 404:
                return
            try:
                body = resp.json()
            except ValueError:
                raise UserError(f"cannot {what}: the registry {self.label} did not answer JSON") from None
            yield body if isinstance(body, dict) else {}
            link = resp.links.get("next", {}).get("url")
            next_url = str(link) if link else None

    # -- writes ------------------------------------------------------------------------------
    def upload_blob(self, repo: str, digest: str, size: int, data: IO[bytes]) -> None:
        """Monolithic upload: POST opens an upload, one PUT sends all bytes and the digest."""
        what = f"upload blob {digest[:19]} to {repo}"
        resp = self._request("POST", f"/v2/{repo}/blobs/uploads/", ok=(202,), what=what)
        location = resp.headers.get("Location")
        if not location:
            raise UserError(f"cannot {what}: the registry gave no upload location")
        url = urljoin(self.base_url + "/", location)
        url += ("&" if "?" in url else "?") + "digest=" + quote(digest, safe="")
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        self._request("PUT", url, ok=(201,), what=what, data=data, headers=headers)

    def put_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        """PUT the manifest under a tag (or digest); returns the digest the registry reports."""
        resp = self._request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            ok=(201,),
            what=f"push the manifest of {repo}:{reference}",
            data=body,
            headers={"Content-Type": media_type},
        )
        return str(resp.headers.get("Docker-Content-Digest") or "")


def registry_error(resp: requests.Response) -> str:
    """One line from an error response: the spec's ``errors`` list, else the HTTP status."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    parts = []
    if isinstance(body, dict):
        for e in body.get("errors") or []:
            if isinstance(e, dict):
                text = f"{e.get('code', 'UNKNOWN')}: {e.get('message', '')}".rstrip(": ")
                detail = e.get("detail")
                if isinstance(detail, str) and detail:
                    text += f" ({detail})"
                elif isinstance(detail, dict) and detail:
                    text += " (" + ", ".join(f"{k}={v}" for k, v in detail.items()) + ")"
                parts.append(text)
    reason = "; ".join(parts) or (resp.text.strip().splitlines() or [""])[0][:200]
    return f"HTTP {resp.status_code} {resp.reason}" + (f": {reason}" if reason else "")


def _reason(err: Exception) -> str:
    """The innermost useful text of a requests/urllib3 exception chain."""
    text = str(err)
    for marker in ("Caused by ", "certificate verify failed"):
        if marker in text:
            i = text.index(marker)
            return text[i:].rstrip(")").strip()[:200]
    return text[:200]
