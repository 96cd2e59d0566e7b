"""get_url: a file downloaded onto the host (Ansible's ``get_url``), with curl there.

Decided from the destination's file fact, as Ansible decides: an existing file is kept
unless ``force`` is on or its checksum differs from ``checksum`` (``sha256:<hex>``, or
``sha256:<url>`` of a checksum list, fetched on the host); then only mode and owner are
fixed. A download goes to a temporary file beside ``dest``, is verified against
``checksum``, and replaces ``dest`` only when its content differs, so ``force: true``
reports a change only when the remote file changed (a plan cannot know: it shows the
download as a possible change). ``dest`` may be a directory: the file is named after
the URL's last path segment (not Content-Disposition, unlike Ansible).
"""

from __future__ import annotations

import posixpath
import re
import shlex
import urllib.parse
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, attr_changes, file_fact, parse_mode
from kubeform.modules._http import HTTP_ARGS, HttpRequest, curl_config, shown_url, url_of
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, StepResult

ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def split_checksum(value: str) -> tuple[str, str]:
    """``algo:digest-or-url`` -> (algo, rest); rejects unknown algorithms."""
    algo, sep, rest = value.partition(":")
    algo = algo.strip().lower()
    if not sep or algo not in ALGORITHMS or not rest.strip():
        raise ModuleArgError(f"checksum must be <algorithm>:<digest or url> with one of {', '.join(ALGORITHMS)}", field="checksum")
    return algo, rest.strip()


def digest_from_list(text: str, filename: str) -> str | None:
    """The digest for ``filename`` in a ``sha256sum``-style list (or a lone digest)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) == 1 and _HEX.match(lines[0].split()[0]) and len(lines[0].split()) == 1:
        return lines[0].split()[0].lower()
    for line in lines:
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[1].lstrip("*").lstrip("./") == filename.lstrip("./"):
            return parts[0].lower()
    return None


def _sum_fact(algo: str, path: str) -> Fact:
    q = shlex.quote(path)
    return Fact(
        key=f"sum:{algo}:{path}",
        command=f"( if [ -f {q} ]; then {algo}sum < {q} | cut -d' ' -f1; fi )",
        parse=lambda out, rc: out.strip().lower() or None,
    )


def _list_fact(url: str) -> Fact:
    return Fact(
        key=f"checksum_list:{url}",
        command=f"( curl -fsSL --max-time 30 {shlex.quote(url)} || echo 'kubeform: cannot fetch the checksum list' )",
        parse=lambda out, rc: out,
    )


class GetUrl(Module):
    """Ansible's get_url: url, dest, checksum, force, mode, owner, group, headers, url_*, ..."""

    name: ClassVar[str] = "get_url"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **HTTP_ARGS,
            "dest": {"type": "string", "minLength": 1},
            "checksum": {"type": "string"},
            "sha256sum": {"type": "string"},
            "force": {"type": "boolean"},
            "backup": {"type": "boolean"},
            "tmp_dest": {"type": "string"},
            "decompress": {"type": "boolean"},
            "mode": {"type": ["string", "integer"]},
            "owner": {"type": "string"},
            "group": {"type": "string"},
            "seuser": {"type": "string"},
            "serole": {"type": "string"},
            "setype": {"type": "string"},
            "selevel": {"type": "string"},
            "attributes": {"type": "string"},
            "unsafe_writes": {"type": "boolean"},
        },
        "required": ["url", "dest"],
        "additionalProperties": False,
    }

    @staticmethod
    def _names(args: Mapping[str, Any]) -> tuple[str, str]:
        """(dest as given, the file inside it when it is a directory)."""
        dest = str(args["dest"])
        base = posixpath.basename(urllib.parse.urlsplit(url_of(args)).path) or "index.html"
        return dest, posixpath.join(dest, base)

    @staticmethod
    def _checksum(args: Mapping[str, Any]) -> tuple[str, str] | None:
        value = args.get("checksum")
        if not value and args.get("sha256sum"):  # the argument before checksum (Ansible < 2.14)
            value = f"sha256:{args['sha256sum']}"
        return split_checksum(str(value)) if value else None

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        dest, inner = self._names(args)
        out = [file_fact(dest), file_fact(inner)]
        check = self._checksum(args)
        if check is not None:
            algo, rest = check
            if algo != "sha256":
                out += [_sum_fact(algo, dest), _sum_fact(algo, inner)]
            if "://" in rest:
                out.append(_list_fact(rest))
        return out

    def _wanted(self, args: Mapping[str, Any], facts: Mapping[str, Any], filename: str) -> tuple[str, str] | None:
        check = self._checksum(args)
        if check is None:
            return None
        algo, rest = check
        if "://" in rest:
            digest = digest_from_list(facts[f"checksum_list:{rest}"], filename)
            if digest is None:
                raise ModuleArgError(f"no checksum for {filename} in {rest}", field="checksum")
            return algo, digest
        if not _HEX.match(rest):
            raise ModuleArgError(f"checksum {rest!r} is not a hex digest", field="checksum")
        return algo, rest.lower()

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        url = url_of(args)
        dest, inner = self._names(args)
        outer: FileState = facts[f"file:{dest}"]
        path = inner if outer.kind == "directory" or (outer.kind == "link" and outer.target_kind == "directory") else dest
        state: FileState = facts[f"file:{path}"]
        filename = posixpath.basename(urllib.parse.urlsplit(url).path)
        want = self._wanted(args, facts, filename)
        if state.exists and not state.is_file:
            raise ModuleArgError(f"{path} exists and is a {state.target_kind or state.kind}, not a file", field="dest")
        mode = parse_mode(args.get("mode"))
        owner, group = args.get("owner"), args.get("group")
        if state.exists:
            have = None
            if want is not None:
                have = state.sha256 if want[0] == "sha256" else facts[f"sum:{want[0]}:{path}"]
            keep = (want is not None and have == want[1]) or (want is None and not args.get("force"))
            if keep:
                attrs = attr_changes(path, state, mode, owner, group)
                return [Change("change", f"{path}: {', '.join(attrs.notes)}", attrs.steps)] if attrs.steps else []
        before = f"sha256 {state.sha256}" if state.exists else None
        after = f"{want[0]} {want[1]}" if want else f"content of {shown_url(url)}"
        summary = f"download {shown_url(url)} to {path}" + (" (replaced only if it differs)" if state.exists and not want else "")
        label = f"curl {shown_url(url)} -> {path}" + (f" (verify {want[0]})" if want else "")
        script = download_script(path, want, mode, owner, group, bool(args.get("backup")))
        step = HttpRequest(script, (curl_config(args) + "fail\n").encode(), label)
        return [Change("change" if state.exists else "add", summary, (step,), Diff(path, before, after))]

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        dest, inner = self._names(args)
        outer: FileState = facts[f"file:{dest}"]
        path = inner if outer.kind == "directory" else dest
        out: dict[str, Any] = {"dest": path, "url": shown_url(url_of(args))}
        for step in steps:
            vals = dict(line.split("=", 1) for line in step.stdout.splitlines() if "=" in line)
            if "result" in vals:
                out.update(
                    changed=vals["result"] == "changed", status_code=int(vals.get("status", "0") or 0),
                    checksum_dest=vals.get("sha1", ""), checksum_src=vals.get("sha1", ""),
                    size=int(vals.get("size", "0") or 0), msg=f"OK ({vals.get('size', '0')} bytes)",
                )  # fmt: skip
        if not steps:
            state: FileState = facts[f"file:{path}"]
            out.update(msg="file already exists", size=state.size, status_code=None)
        return out


def download_script(
    path: str, want: tuple[str, str] | None, mode: int | str | None, owner: Any, group: Any, backup: bool
) -> str:
    """Download (curl config on stdin) to a temp file beside ``path``, verify, replace if different."""
    q = shlex.quote(path)
    attrs = []
    if mode is not None:
        attrs.append(f"chmod {shlex.quote(mode if isinstance(mode, str) else f'{mode:04o}')} {q}")
    if owner or group:
        attrs.append(f"chown {shlex.quote(str(owner or '') + (':' + str(group) if group else ''))} {q}")
    fix = "; ".join(attrs) or "true"
    verify = ""
    if want is not None:
        algo, digest = want
        verify = (
            f'have=$({algo}sum < "$t" | cut -d" " -f1); if [ "$have" != {digest} ]; then '
            f'echo "checksum mismatch: {algo} of the download is $have, expected {digest}" >&2; exit 1; fi; '
        )
    keep_backup = f'cp -p {q} {q}."$(date +%Y%m%d%H%M%S)"~; ' if backup else ""
    return (
        f"set -e; t=$(mktemp {shlex.quote(posixpath.dirname(path) or '.')}/.kubeform-get_url.XXXXXX); "
        "trap 'rm -f \"$t\"' EXIT; "
        "command -v curl >/dev/null 2>&1 || { echo 'get_url needs curl on the host' >&2; exit 1; }; "
        'code=$(curl -K - -o "$t" -w "%{http_code}"); '
        f"{verify}"
        'echo "status=$code"; echo "sha1=$(sha1sum < "$t" | cut -d" " -f1)"; echo "size=$(wc -c < "$t" | tr -d " ")"; '
        f'if [ -f {q} ] && cmp -s "$t" {q}; then {fix}; echo result=unchanged; exit 0; fi; '
        f'if [ -e {q} ]; then chmod --reference={q} "$t"; {keep_backup}'
        'else chmod "$(printf %o $((0666 & ~0$(umask))))" "$t"; fi; '
        f'mv -f "$t" {q}; trap - EXIT; {fix}; echo result=changed'
    )
