"""unarchive: a tar or zip archive unpacked into ``dest`` (Ansible's ``ansible.builtin.unarchive``).

The archive is a controller file (uploaded, unpacked, removed) or, with ``remote_src``
(or the old ``copy: no``), a file on the host. Idempotent as Ansible's: ``creates``
names a path whose existence means done; otherwise the plan compares the archive with
``dest`` — a controller archive by the sha256 of each of its files (read here, probed on
the host), a host tar with ``tar --diff``, a host zip by its files' existence. A URL
``src`` is downloaded on the host each run and is therefore always a change unless
``creates`` says otherwise. ``mode``/``owner``/``group`` apply to every unpacked entry.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import shlex
import tarfile
import zipfile
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import parse_mode
from kubeform.modules.base import (
    Change,
    Diff,
    Fact,
    Module,
    ModuleArgError,
    PrepareContext,
    Run,
    Upload,
)

LIST_LIMIT = 2000


def archive_files(data: bytes) -> tuple[str, dict[str, str]]:
    """(``tar``|``zip``, member path -> sha256) of a controller archive's regular files."""
    out: dict[str, str] = {}
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                if not info.is_dir():
                    out[info.filename] = hashlib.sha256(z.read(info)).hexdigest()
        return "zip", out
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for member in t.getmembers():
                if member.isfile():
                    f = t.extractfile(member)
                    out[member.name.removeprefix("./")] = hashlib.sha256(f.read() if f else b"").hexdigest()
    except tarfile.TarError as err:
        raise ModuleArgError(f"src is neither a tar nor a zip archive ({err})", field="src") from None
    return "tar", out


def parse_state(out: str, rc: int) -> dict[str, Any]:
    vals: dict[str, Any] = {"sums": {}}
    for line in out.splitlines():
        if line.startswith("sum "):
            _, digest, path = line.split(" ", 2)
            vals["sums"][path] = digest
            continue
        key, sep, value = line.partition("=")
        if sep:
            vals[key] = value.strip()
    return vals


def _scratch(source: bytes, dest: str) -> str:
    """The host's scratch copy of an archive: named by the archive and the destination, so
    hosts sharing a /tmp (or two tasks at once) never remove each other's copy."""
    return "/tmp/kubeform-unarchive-" + hashlib.sha256(source + b"\0" + dest.encode()).hexdigest()[:12]


class Unarchive(Module):
    """``src``, ``dest``, ``remote_src`` (``copy``), ``creates``, ``extra_opts``, ``mode``/``owner``/``group``."""

    name: ClassVar[str] = "unarchive"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["src", "dest"],
        "properties": {
            "src": {"type": "string", "minLength": 1},
            "dest": {"type": "string", "minLength": 1},
            "remote_src": {"type": "boolean"},
            "copy": {"type": "boolean"},
            "creates": {"type": "string"},
            "extra_opts": {"type": "array", "items": {"type": "string"}},
            "mode": {"type": ["string", "integer"]},
            "owner": {"type": "string"},
            "group": {"type": "string"},
            "keep_newer": {"type": "boolean"},
            "validate_certs": {"type": "boolean"},
        },
    }

    @staticmethod
    def _remote(args: Mapping[str, Any]) -> bool:
        return bool(args.get("remote_src")) or args.get("copy") is False or "://" in str(args["src"])

    def prepare(self, args: Mapping[str, Any], ctx: PrepareContext) -> dict[str, Any]:
        out = dict(args)
        if not self._remote(args):
            data = ctx.read_local(str(args["src"]))
            kind, files = archive_files(data)
            out.update(_content=data, _kind=kind, _files=files)
        return out

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        dest, src = shlex.quote(str(args["dest"])), shlex.quote(str(args["src"]))
        cmd = f"( if [ -d {dest} ]; then echo dest=dir; else echo dest=missing; fi; "
        if args.get("creates"):
            cmd += f"if [ -e {shlex.quote(str(args['creates']))} ]; then echo creates=yes; fi; "
        if "://" in str(args["src"]):
            pass
        elif self._remote(args):
            cmd += (
                f"if [ ! -f {src} ]; then echo src=missing; "
                f"elif unzip -Z1 {src} >/dev/null 2>&1; then echo src=zip; "
                f"m=$(unzip -Z1 {src} | while IFS= read -r f; do [ -e {dest}/\"$f\" ] || echo x; done | head -1); "
                f"[ -z \"$m\" ] && echo same=0 || echo same=1; "
                f"else echo src=tar; tar -d -f {src} -C {dest} >/dev/null 2>&1; echo same=$?; fi; "
            )
        else:
            files = sorted(args.get("_files") or {})[:LIST_LIMIT]
            if files:
                names = " ".join(shlex.quote(f) for f in files)
                cmd += f"cd {dest} 2>/dev/null && for f in {names}; do [ -f \"$f\" ] && printf 'sum %s %s\\n' \"$(sha256sum < \"$f\" | cut -d' ' -f1)\" \"$f\"; done; "
        cmd += "true )"
        return [Fact(f"unarchive:{args['src']}->{args['dest']}", cmd, parse_state, volatile=True)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found = facts[f"unarchive:{args['src']}->{args['dest']}"]
        src, dest = str(args["src"]), str(args["dest"])
        if found.get("creates") == "yes":
            return []
        if found.get("dest") != "dir":
            raise ModuleArgError(f"dest {dest} must be an existing directory", field="dest")
        qd = shlex.quote(dest)
        opts = " ".join(shlex.quote(o) for o in args.get("extra_opts") or [])
        if "://" in src:
            kind = "zip" if src.lower().endswith(".zip") else "tar"
            tmp = _scratch(src.encode(), dest)
            fetch: list[Any] = [Run(f"curl -fsSL -o {tmp} {shlex.quote(src)}")]
            archive, cleanup = tmp, [Run(f"rm -f {tmp}")]
        elif self._remote(args):
            if found.get("src") == "missing":
                raise ModuleArgError(f"Source '{src}' does not exist", field="src")
            if found.get("same") == "0":
                return []
            kind, archive, fetch, cleanup = str(found.get("src", "tar")), src, [], []
        else:
            files: Mapping[str, str] = args.get("_files") or {}
            if all(found["sums"].get(f) == digest for f, digest in list(sorted(files.items()))[:LIST_LIMIT]):
                return []
            kind = str(args.get("_kind", "tar"))
            content: bytes = args["_content"]
            archive = _scratch(content, dest)
            fetch, cleanup = [Upload(path=archive, content=content, mode=0o600)], [Run(f"rm -f {archive}")]
        qa = shlex.quote(archive)
        if kind == "zip":
            unpack = f"unzip -o {opts + ' ' if opts else ''}{qa} -d {qd}"
            listing = f"unzip -Z1 {qa}"
        else:
            unpack = f"tar -x -f {qa} -C {qd}{' ' + opts if opts else ''}"
            listing = f"tar -t -f {qa}"
        steps: list[Any] = [*fetch, Run(unpack)]
        attrs = []
        mode = parse_mode(args.get("mode"))
        if mode is not None:
            attrs.append(f"chmod {shlex.quote(mode if isinstance(mode, str) else format(mode, '04o'))}")
        if args.get("owner") or args.get("group"):
            attrs.append(f"chown {shlex.quote(str(args.get('owner') or '') + (':' + str(args['group']) if args.get('group') else ''))}")
        for a in attrs:
            steps.append(Run(f"{listing} | while IFS= read -r f; do {a} {qd}/\"$f\"; done"))
        steps += cleanup
        name = posixpath.basename(src.rstrip("/"))
        return [Change("change", f"unpack {name} into {dest}", tuple(steps), Diff(f"unarchive {dest}", None, f"{name} unpacked\n"))]
