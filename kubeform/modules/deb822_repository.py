"""deb822_repository: an APT source in deb822 format (Ansible's ``deb822_repository``).

The file is ``/etc/apt/sources.list.d/<name>.sources`` (the name lower-cased, runs of
other characters than letters, digits and ``-`` replaced by ``-``), one stanza written
here from the arguments, so its content — and the diff — is known in a plan. A
``signed_by`` URL is fetched on the host (a probe) and kept in
``/etc/apt/keyrings/<name>.asc`` (``.gpg`` for a binary key), which the stanza names; an
armoured key block is embedded in the stanza; anything else is used as a path.
The cache is not updated (as in Ansible: use ``apt: update_cache``).
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, parse_mode, plan_content
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult

SOURCES_DIR = "/etc/apt/sources.list.d"
KEYRINGS_DIR = "/etc/apt/keyrings"
# Argument -> deb822 field, in the order the stanza lists them.
FIELDS = {
    "types": "Types", "uris": "URIs", "suites": "Suites", "components": "Components",
    "architectures": "Architectures", "languages": "Languages", "targets": "Targets",
    "enabled": "Enabled", "trusted": "Trusted", "by_hash": "By-Hash", "pdiffs": "PDiffs",
    "allow_insecure": "Allow-Insecure", "allow_weak": "Allow-Weak",
    "allow_downgrade_to_insecure": "Allow-Downgrade-To-Insecure", "check_date": "Check-Date",
    "check_valid_until": "Check-Valid-Until", "date_max_future": "Date-Max-Future",
    "inrelease_path": "InRelease-Path",
}  # fmt: skip
LISTS = ("types", "uris", "suites", "components", "architectures", "languages", "targets")
BOOLS = ("enabled", "trusted", "by_hash", "pdiffs", "allow_insecure", "allow_weak", "allow_downgrade_to_insecure", "check_date", "check_valid_until")


def file_stem(name: str) -> str:
    stem = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    if not stem:
        raise ModuleArgError(f"name {name!r} gives no file name", field="name")
    return stem


def _words(value: Any) -> list[str]:
    if value is None:
        return []
    items = value.split() if isinstance(value, str) else [str(v) for v in value]
    return [i for i in items if i]


def _multiline(text: str) -> str:
    """A multi-line field value: continuation lines indented, empty lines as `` .``."""
    lines = text.strip("\n").splitlines()
    return "\n".join([lines[0], *(" " + (ln if ln.strip() else ".") for ln in lines[1:])])


def stanza(args: Mapping[str, Any], signed_by: str | None) -> str:
    out = [f"X-Repolib-Name: {args['name']}"]
    for arg, field in FIELDS.items():
        value = args.get(arg)
        if arg == "types" and value is None:
            value = ["deb"]
        if value is None:
            continue
        if arg in BOOLS:
            text = "yes" if value else "no"
        elif arg in LISTS:
            text = " ".join(_words(value))
        else:
            text = str(value)
        out.append(f"{field}: {text}")
    if signed_by:
        out.append(f"Signed-By: {_multiline(signed_by)}" if "\n" in signed_by.strip() else f"Signed-By: {signed_by}")
    return "\n".join(out) + "\n"


def key_fact(url: str) -> Fact:
    return Fact(
        key=f"deb822_key:{url}",
        command=f"( curl -fsSL {shlex.quote(url)} | base64 || echo unreadable )",
        parse=parse_key,
    )


def parse_key(out: str, rc: int) -> bytes | None:
    if "unreadable" in out:
        return None
    try:
        data = base64.b64decode("".join(out.split()), validate=True)
    except binascii.Error:
        return None
    return data or None


class Deb822Repository(Module):
    """Ansible's deb822_repository: name, types, uris, suites, components, signed_by, ..."""

    name: ClassVar[str] = "deb822_repository"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "state": {"enum": ["present", "absent"]},
            **{a: {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]} for a in LISTS},
            **{a: {"type": "boolean"} for a in BOOLS},
            "date_max_future": {"type": "integer"},
            "inrelease_path": {"type": "string"},
            "signed_by": {"type": "string"},
            "mode": {"type": ["string", "integer"]},
            "install_python_debian": {"type": "boolean"},
        },
        "required": ["name"],
        "additionalProperties": False,
    }

    @staticmethod
    def _key_url(args: Mapping[str, Any]) -> str | None:
        signed = str(args.get("signed_by") or "")
        return signed if re.match(r"^(https?|ftp)://", signed) else None

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        stem = file_stem(str(args["name"]))
        out = [file_fact(f"{SOURCES_DIR}/{stem}.sources")]
        if args.get("state", "present") == "present" and self._key_url(args):
            out += [key_fact(str(self._key_url(args))), file_fact(f"{KEYRINGS_DIR}/{stem}.asc"), file_fact(f"{KEYRINGS_DIR}/{stem}.gpg")]
        elif args.get("state") == "absent":
            out += [file_fact(f"{KEYRINGS_DIR}/{stem}.asc"), file_fact(f"{KEYRINGS_DIR}/{stem}.gpg")]
        return out

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        stem = file_stem(str(args["name"]))
        dest = f"{SOURCES_DIR}/{stem}.sources"
        state: FileState = facts[f"file:{dest}"]
        if args.get("state", "present") == "absent":
            removals: list[Change] = []
            for path in (dest, f"{KEYRINGS_DIR}/{stem}.asc", f"{KEYRINGS_DIR}/{stem}.gpg"):
                if facts[f"file:{path}"].exists:
                    removals.append(Change("remove", f"remove {path}", (Run(f"rm -f {shlex.quote(path)}"),), Diff(path, "(present)", None)))
            return removals
        for need in ("uris", "suites"):
            if not _words(args.get(need)):
                raise ModuleArgError(f"{need} is required", field=need)
        if any(s.endswith("/") for s in _words(args.get("suites"))) and args.get("components"):
            raise ModuleArgError("a suite that is a path (ends with /) takes no components", field="components")
        if not any(s.endswith("/") for s in _words(args.get("suites"))) and not _words(args.get("components")):
            raise ModuleArgError("components are required unless the suite is a path (ends with /)", field="components")
        changes: list[Change] = []
        signed = args.get("signed_by")
        url = self._key_url(args)
        if url:
            key = facts[f"deb822_key:{url}"]
            if key is None:
                raise ModuleArgError(f"cannot fetch the key {url}", field="signed_by")
            armored = key.lstrip().startswith(b"-----BEGIN PGP")
            signed = f"{KEYRINGS_DIR}/{stem}.{'asc' if armored else 'gpg'}"
            changes += plan_content(signed, facts[f"file:{signed}"], key, mode=0o644, create_parent=True, what=f"key of {args['name']}")
        mode = parse_mode(args.get("mode", "0644"))
        content = stanza(args, str(signed) if signed else None).encode()
        changes += plan_content(dest, state, content, mode=mode, what=f"repository {args['name']}")
        return changes

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        stem = file_stem(str(args["name"]))
        out: dict[str, Any] = {"dest": f"{SOURCES_DIR}/{stem}.sources"}
        if args.get("state", "present") == "present":
            url = self._key_url(args)
            key = facts.get(f"deb822_key:{url}") if url else None
            signed = f"{KEYRINGS_DIR}/{stem}.{'asc' if key.lstrip().startswith(b'-----BEGIN PGP') else 'gpg'}" if key else args.get("signed_by")
            out["repo"] = stanza(args, str(signed) if signed else None)
            out["key_filename"] = signed if url else None
        return out
