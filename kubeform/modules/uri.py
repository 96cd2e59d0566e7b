"""uri: an HTTP request made from the host (Ansible's ``uri``), with curl there.

A ``GET`` or ``HEAD`` changes nothing by HTTP's rules, so it is made as a volatile
fact right before the task — also in a plan, where its registered ``status``/``json``/
``content`` are real (Ansible skips uri in check mode) — unless it carries credentials
(a password, an auth/token/cookie header): those go to curl on stdin, in a step. Any other
method is a step: planned as a request that would be sent, never sent by a plan.
As in Ansible the task reports ``ok`` (not changed) unless ``changed_when`` says
otherwise, and fails when the status is not in ``status_code`` (default 200).
``creates``/``removes`` skip the request as command's do. ``dest`` is not supported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules._http import (
    HTTP_ARGS,
    HttpRequest,
    curl_config,
    has_secrets,
    quote,
    shown_url,
    url_of,
)
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult
from kubeform.modules.command import guard_facts, skip_reason

READ_ONLY = ("GET", "HEAD")
SCRIPT = (
    "d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; "
    "command -v curl >/dev/null 2>&1 || { echo 'uri needs curl on the host' >&2; exit 1; }; "
    'w=$(curl -K - -D "$d/h" -o "$d/b" -w "%{http_code} %{num_redirects} %{url_effective}") || '
    '{ rc=$?; echo "== error"; echo "curl exit $rc"; exit 0; }; '
    'echo "== status"; echo "$w"; echo "== headers"; cat "$d/h"; echo "== body"; base64 < "$d/b"'
)


def parse_response(stdout: str, rc: int) -> dict[str, Any]:
    """Ansible's uri result keys from the script's sections."""
    parts = sections(stdout)
    if "error" in parts or "status" not in parts:
        return {"failed_request": (parts.get("error") or stdout).strip() or f"rc {rc}"}
    code, redirects, url = ([*parts["status"].strip().split(" ", 2), "", ""])[:3]
    headers: dict[str, str] = {}
    for line in parts.get("headers", "").splitlines():
        if line.startswith("HTTP/"):
            headers = {}  # a redirect: keep the last response's headers
            continue
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower().replace("-", "_")] = value.strip()
    try:
        body = base64.b64decode("".join(parts.get("body", "").split()))
    except binascii.Error:
        body = b""
    out: dict[str, Any] = {
        "status": int(code) if code.isdigit() else -1,
        "url": url,
        "redirected": redirects not in ("", "0"),
        "content_length": headers.get("content_length", str(len(body))),
        **headers,
        "_body": body,
    }
    return out


class Uri(Module):
    """Ansible's uri: url, method, body, body_format, headers, status_code, return_content, ..."""

    name: ClassVar[str] = "uri"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **HTTP_ARGS,
            "method": {"type": "string", "minLength": 1},
            "body": {},
            "body_format": {"enum": ["raw", "json", "form-urlencoded", "form-multipart"]},
            "src": {"type": "string"},
            "status_code": {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "array", "items": {"type": ["integer", "string"]}}]},
            "return_content": {"type": "boolean"},
            "follow_redirects": {"enum": ["all", "none", "safe", "urllib2", "yes", "no", True, False]},
            "creates": {"type": "string", "minLength": 1},
            "removes": {"type": "string", "minLength": 1},
            "remote_src": {"type": "boolean"},
            "decompress": {"type": "boolean"},
            "use_gssapi": {"type": "boolean"},
            "use_netrc": {"type": "boolean"},
        },
        "required": ["url"],
        "additionalProperties": False,
    }

    @staticmethod
    def _method(args: Mapping[str, Any]) -> str:
        return str(args.get("method") or "GET").upper()

    @staticmethod
    def _body(args: Mapping[str, Any]) -> tuple[bytes | None, str | None]:
        """The request body and the Content-Type it implies."""
        body = args.get("body")
        fmt = args.get("body_format", "raw")
        if body is None:
            return None, None
        if fmt == "json":
            return (body if isinstance(body, str) else json.dumps(body)).encode(), "application/json"
        if fmt == "form-urlencoded":
            if isinstance(body, Mapping):
                return urllib.parse.urlencode({k: str(v) for k, v in body.items()}).encode(), "application/x-www-form-urlencoded"
            return str(body).encode(), "application/x-www-form-urlencoded"
        if fmt == "form-multipart":
            raise ModuleArgError("body_format form-multipart is not supported", field="body_format")
        return str(body).encode(), None

    def _config(self, args: Mapping[str, Any]) -> str:
        """The curl config of the request (body included, as a quoted ``data-binary``)."""
        method = self._method(args)
        redirects = str(args.get("follow_redirects", "safe")).lower()
        follow = redirects not in ("none", "no", "false") and (redirects != "safe" or method in READ_ONLY)
        config = curl_config(args, follow=follow, default_timeout=30)
        config += "head\n" if method == "HEAD" else f"request = {quote(method)}\n"
        body, ctype = self._body(args)
        headers = {str(k).lower() for k in (args.get("headers") or {})}
        if ctype and "content-type" not in headers:
            config += f"header = {quote('Content-Type: ' + ctype)}\n"
        if body is not None:
            config += f"data-binary = {quote(body.decode('utf-8', errors='surrogateescape'))}\n"
        return config

    def _as_fact(self, args: Mapping[str, Any]) -> bool:
        """A GET/HEAD changes nothing: made as a fact, unless credentials must go on stdin."""
        return self._method(args) in READ_ONLY and not has_secrets(args)

    def _fact(self, args: Mapping[str, Any]) -> Fact:
        config = self._config(args)
        digest = hashlib.sha256(config.encode()).hexdigest()[:12]
        return Fact(
            key=f"uri:{shown_url(url_of(args))}:{digest}",
            command=f"( {SCRIPT} ) <<'KUBEFORM_URI_{digest}'\n{config}KUBEFORM_URI_{digest}\n",
            parse=parse_response, volatile=True,
        )  # fmt: skip

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        out = guard_facts(args)
        if self._as_fact(args):
            out.append(self._fact(args))
        return out

    @staticmethod
    def _guard(args: Mapping[str, Any], facts: Mapping[str, Any]) -> str | None:
        if not args.get("creates") and not args.get("removes"):
            return None
        return skip_reason(args, facts)

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        label = f"{self._method(args)} {shown_url(url_of(args))}"
        config = self._config(args)
        self._codes(args)
        if self._guard(args, facts) is not None:
            return []
        if self._as_fact(args):
            self._response(args, facts[self._fact(args).key])  # a failed GET fails the task here, located
            return []
        return [Change("change", label, (HttpRequest(SCRIPT, config.encode(), label),))]

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        reason = self._guard(args, facts)
        if reason is not None:
            return {"msg": reason, "changed": False}
        if self._as_fact(args):
            return self._response(args, facts[self._fact(args).key])
        if steps:
            return self._response(args, parse_response(steps[-1].stdout, steps[-1].rc))
        return {}  # a plan: the request was not sent

    def _response(self, args: Mapping[str, Any], parsed: Mapping[str, Any]) -> dict[str, Any]:
        """Ansible's registered keys; raises when the request failed or the status is unexpected."""
        resp = dict(parsed)
        if "failed_request" in resp:
            raise ModuleArgError(f"Status code was -1 and not {self._codes(args)}: Request failed: {resp['failed_request']}", field="url")
        body: bytes = resp.pop("_body")
        text = body.decode("utf-8", errors="replace")
        if "json" in str(resp.get("content_type", "")):
            try:
                resp["json"] = json.loads(text)
            except ValueError:
                pass
        if args.get("return_content"):
            resp["content"] = text
        if resp["status"] not in self._codes(args):
            raise ModuleArgError(f"Status code was {resp['status']} and not {self._codes(args)}: {text[:200]}", field="status_code")
        resp.update(msg=f"OK ({len(body)} bytes)", changed=False, elapsed=0)
        return resp

    @staticmethod
    def _codes(args: Mapping[str, Any]) -> list[int]:
        value = args.get("status_code", [200])
        items = value if isinstance(value, list) else str(value).split(",")
        try:
            return [int(str(v).strip()) for v in items]
        except ValueError:
            raise ModuleArgError(f"status_code {value!r} must be numbers", field="status_code") from None
