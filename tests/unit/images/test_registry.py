"""The registry client's requests and error lines, against a scripted session."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests

from kubeform.errors import UserError
from kubeform.images.registry import RegistryClient, registry_error


def _resp(status: int, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r.reason = {200: "OK", 201: "Created", 202: "Accepted", 400: "Bad Request", 404: "Not Found"}.get(status, "")
    r._content = json.dumps(body).encode() if body is not None else b""
    r.headers.update(headers or {})
    return r


class Scripted:
    """A session answering (method, url-prefix) in order; records what was sent."""

    def __init__(self, answers: list[tuple[str, str, requests.Response]]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        self.sent.append((method, url, kw))
        m, prefix, resp = self.answers.pop(0)
        assert (method, url[: len(prefix)]) == (m, prefix), (method, url)
        return resp


def test_monolithic_upload_puts_the_digest_on_the_location() -> None:
    session = Scripted([
        ("POST", "https://r:5000/v2/library/busybox/blobs/uploads/",
         _resp(202, headers={"Location": "/v2/library/busybox/blobs/uploads/u1?_state=abc"})),
        ("PUT", "https://r:5000/v2/library/busybox/blobs/uploads/u1?_state=abc&digest=sha256%3Aff", _resp(201)),
    ])
    client = RegistryClient("https://r:5000", session)  # type: ignore[arg-type]
    client.upload_blob("library/busybox", "sha256:ff", 3, io.BytesIO(b"abc"))
    put = session.sent[1][2]
    assert put["headers"]["Content-Length"] == "3"


def test_catalog_follows_link_pages() -> None:
    session = Scripted([
        ("GET", "https://r:5000/v2/_catalog?n=1000",
         _resp(200, {"repositories": ["a/b"]}, {"Link": '</v2/_catalog?last=a%2Fb&n=1000>; rel="next"'})),
        ("GET", "https://r:5000/v2/_catalog?last=a%2Fb", _resp(200, {"repositories": ["library/busybox"]})),
    ])
    assert RegistryClient("https://r:5000", session).catalog() == ["a/b", "library/busybox"]  # type: ignore[arg-type]


def test_manifest_refused_is_one_line_with_the_registry_reason() -> None:
    body = {"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry",
                        "detail": "sha256:abc"}]}
    session = Scripted([("PUT", "https://r:5000/v2/a/b/manifests/1", _resp(400, body))])
    with pytest.raises(UserError) as info:
        RegistryClient("https://r:5000", session).put_manifest("a/b", "1", b"{}", "x")  # type: ignore[arg-type]
    assert str(info.value) == (
        "cannot push the manifest of a/b:1: HTTP 400 Bad Request: "
        "MANIFEST_BLOB_UNKNOWN: blob unknown to registry (sha256:abc)"
    )


def test_error_without_json_body() -> None:
    r = _resp(404)
    r._content = b"404 page not found\n"
    assert registry_error(r) == "HTTP 404 Not Found: 404 page not found"


def test_missing_repository_has_no_tags() -> None:
    session = Scripted([("GET", "https://r:5000/v2/x/tags/list", _resp(404, {"errors": []}))])
    assert RegistryClient("https://r:5000", session).tags("x") == []  # type: ignore[arg-type]
