"""Shared help of get_url and uri: the request runs on the host with ``curl``.

Ansible's modules fetch from the managed host (the URL must be reachable from there),
so do these. The request's options go to curl as a config file on stdin (``-K -``):
credentials and headers never appear on a command line, in a plan or in a log, and
``describe()`` shows only the method and the URL (its password part masked).
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeform.modules.base import ModuleArgError, Step, StepContext, StepResult

# Ansible's argument names shared by get_url and uri (url_* and the aliases).
HTTP_ARGS: dict[str, Any] = {
    "url": {"type": "string", "minLength": 1},
    "headers": {"type": "object"},
    "url_username": {"type": "string"},
    "username": {"type": "string"},
    "user": {"type": "string"},
    "url_password": {"type": "string"},
    "password": {"type": "string"},
    "force_basic_auth": {"type": "boolean"},
    "validate_certs": {"type": "boolean"},
    "timeout": {"type": ["integer", "number"]},
    "use_proxy": {"type": "boolean"},
    "http_agent": {"type": "string"},
    "client_cert": {"type": "string"},
    "client_key": {"type": "string"},
    "ca_path": {"type": "string"},
    "unix_socket": {"type": "string"},
}


def quote(value: str) -> str:
    """A curl config value in double quotes (backslash, quote and control characters escaped)."""
    for char, code in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        value = value.replace(char, code)
    return '"' + value + '"'


@dataclass(frozen=True)
class HttpRequest(Step):
    """A shell script that runs curl with its config on stdin; described by ``label`` only."""

    script: str
    config: bytes
    label: str

    def describe(self) -> str:
        return self.label

    def execute(self, ctx: StepContext) -> StepResult:
        res = ctx.conn.run(self.script, become=ctx.become, become_user=ctx.become_user, stdin=self.config)
        return StepResult(rc=res.rc, stdout=res.stdout, stderr=res.stderr, extra={"rc": res.rc})


def has_secrets(args: Mapping[str, Any]) -> bool:
    """Whether the request carries credentials (they must not travel on a command line)."""
    if args.get("url_password") is not None or args.get("password") is not None:
        return True
    if urllib.parse.urlsplit(str(args.get("url") or "")).password is not None:
        return True
    words = ("auth", "token", "cookie", "key", "secret", "session")
    return any(w in str(k).lower() for k in (args.get("headers") or {}) for w in words)


def url_of(args: Mapping[str, Any]) -> str:
    url = str(args.get("url") or "")
    if not url:
        raise ModuleArgError("url is required", field="url")
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "ftp", "file"):
        raise ModuleArgError(f"url must be http(s), ftp or file, not {url!r}", field="url")
    return url


def shown_url(url: str) -> str:
    """The URL with a password in it masked, for plans and messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:********@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def curl_config(args: Mapping[str, Any], *, follow: bool = True, default_timeout: int = 10) -> str:
    """The curl config lines (``-K -``) for the request ``args`` describe."""
    lines = [f"url = {quote(url_of(args))}", "silent", "show-error"]
    lines.append(f"max-time = {args.get('timeout', default_timeout)}")
    if follow:
        lines.append("location")
    if args.get("validate_certs") is False:
        lines.append("insecure")
    if args.get("use_proxy") is False:
        lines.append('noproxy = "*"')
    lines.append(f"user-agent = {quote(str(args.get('http_agent') or 'ansible-httpget'))}")
    for key, value in (args.get("headers") or {}).items():
        lines.append(f"header = {quote(f'{key}: {value}')}")
    user = args.get("url_username", args.get("username", args.get("user")))
    password = args.get("url_password", args.get("password"))
    if user is not None:
        if args.get("force_basic_auth"):
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()  # Ansible's force_basic_auth
            lines.append(f"header = {quote('Authorization: Basic ' + token)}")
        else:
            pair = f"{user}:{password or ''}"
            lines += ["basic", f"user = {quote(pair)}"]
    for name, opt in (("client_cert", "cert"), ("client_key", "key"), ("ca_path", "cacert"), ("unix_socket", "unix-socket")):
        if args.get(name):
            lines.append(f"{opt} = {quote(str(args[name]))}")
    return "\n".join(lines) + "\n"
