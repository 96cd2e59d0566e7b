"""find: files matching conditions, registered as Ansible's ``files`` list.

Read-only, so real in a plan too. One ``find -printf`` per task lists every candidate
under ``paths`` (to ``depth``, or one level without ``recurse``) with its stat fields;
the conditions (``patterns`` as globs or ``use_regex``, ``excludes``, ``file_type``,
``hidden``, ``age``, ``size``) are applied here, as Ansible's module applies them to the
basename. ``contains`` is read with ``grep`` on the host for regular files only.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult

FIELDS = "%y\\t%s\\t%T@\\t%A@\\t%C@\\t%m\\t%U\\t%G\\t%u\\t%g\\t%i\\t%n\\t%D\\t%l\\t%p\\n"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZES = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [i.strip() for i in items if i.strip()]


def find_fact(paths: Sequence[str], args: Mapping[str, Any]) -> Fact:
    depth = args.get("depth")
    max_depth = "" if args.get("recurse") and not depth else f"-maxdepth {int(depth) if args.get('recurse') and depth else 1} "
    follow = "-L " if args.get("follow") else ""
    quoted = " ".join(shlex.quote(p) for p in paths)
    grep = ""
    if args.get("contains"):
        grep = (
            f"; echo '== contains'; find {follow}{quoted} -mindepth 1 {max_depth}-type f -exec grep -lE -- "
            f"{shlex.quote(str(args['contains']))} {{}} + 2>/dev/null"
        )
    cmd = (
        f"( for p in {quoted}; do [ -d \"$p\" ] || echo \"missing=$p\"; done; echo '== files'; "
        f"find {follow}{quoted} -mindepth 1 {max_depth}-printf '{FIELDS}' 2>/dev/null{grep}; true )"
    )
    key = "find:" + shlex.join([*paths, str(sorted((k, str(v)) for k, v in args.items()))])
    return Fact(key=key, command=cmd, parse=parse_find, volatile=True)


def parse_find(out: str, rc: int) -> dict[str, Any]:
    missing: list[str] = []
    entries: list[dict[str, Any]] = []
    contains: set[str] = set()
    section = ""
    for line in out.splitlines():
        if line.startswith("missing="):
            missing.append(line[8:])
        elif line in ("== files", "== contains"):
            section = line[3:]
        elif section == "contains" and line:
            contains.add(line)
        elif section == "files" and line.count("\t") >= 14:
            f = line.split("\t", 14)
            kind = {"f": "file", "d": "directory", "l": "link"}.get(f[0], "other")
            mode = int(f[5], 8)
            entries.append({
                "path": f[14], "kind": kind, "size": int(f[1]), "mtime": float(f[2]), "atime": float(f[3]),
                "ctime": float(f[4]), "mode": f"{mode:04o}", "uid": int(f[6]), "gid": int(f[7]), "pw_name": f[8],
                "gr_name": f[9], "inode": int(f[10]), "nlink": int(f[11]), "dev": int(f[12]), "lnk_source": f[13],
            })  # fmt: skip
    return {"missing": missing, "entries": entries, "contains": contains}


def _age_seconds(value: str) -> float:
    m = re.fullmatch(r"(-?\d+)([smhdw]?)", value.strip().lower())
    if not m:
        raise ModuleArgError(f"age {value!r} must be a number with an optional unit (s, m, h, d, w)", field="age")
    return int(m.group(1)) * _UNITS[m.group(2) or "s"]


def _size_bytes(value: str) -> int:
    m = re.fullmatch(r"(-?\d+)([bkmgt]?)b?", value.strip().lower())
    if not m:
        raise ModuleArgError(f"size {value!r} must be a number with an optional unit (b, k, m, g, t)", field="size")
    return int(m.group(1)) * _SIZES[m.group(2) or "b"]


def select(entries: Sequence[Mapping[str, Any]], args: Mapping[str, Any], contains: set[str], now: float) -> list[dict[str, Any]]:
    """Ansible's conditions over the listed entries."""
    patterns = _list(args.get("patterns") or args.get("pattern"))
    excludes = _list(args.get("excludes") or args.get("exclude"))
    regex = bool(args.get("use_regex"))
    ftype = str(args.get("file_type", "file"))
    age = _age_seconds(str(args["age"])) if args.get("age") is not None else None
    size = _size_bytes(str(args["size"])) if args.get("size") is not None else None
    stamp = str(args.get("age_stamp", "mtime"))

    def matches(name: str, pats: list[str]) -> bool:
        if regex:
            return any(re.match(p, name) for p in pats)  # Ansible: re.match, anchored at the start only
        return any(fnmatchcase(name, p) for p in pats)

    out = []
    for e in entries:
        name = e["path"].rsplit("/", 1)[-1]
        if not args.get("hidden") and name.startswith("."):
            continue
        if ftype != "any" and e["kind"] != ftype:
            continue
        if patterns and not matches(name, patterns):
            continue
        if excludes and matches(name, excludes):
            continue
        if age is not None:
            elapsed = now - e[stamp]
            if (age >= 0 and elapsed < age) or (age < 0 and elapsed > -age):
                continue
        if size is not None and e["kind"] == "file":
            if (size >= 0 and e["size"] < size) or (size < 0 and e["size"] > -size):
                continue
        if args.get("contains") and (e["kind"] != "file" or e["path"] not in contains):
            continue
        info = {k: v for k, v in e.items() if k != "kind"}
        info.update(isdir=e["kind"] == "directory", isreg=e["kind"] == "file", islnk=e["kind"] == "link")
        out.append(info)
    return out


class Find(Module):
    """Ansible's find: paths, patterns, excludes, contains, file_type, recurse, depth, hidden, age, size, ..."""

    name: ClassVar[str] = "find"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **{k: {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
               for k in ("paths", "path", "name", "patterns", "pattern", "excludes", "exclude")},
            "contains": {"type": "string"},
            "file_type": {"enum": ["file", "directory", "link", "any"]},
            "recurse": {"type": "boolean"},
            "depth": {"type": "integer", "minimum": 1},
            "hidden": {"type": "boolean"},
            "follow": {"type": "boolean"},
            "use_regex": {"type": "boolean"},
            "age": {"type": ["string", "integer"]},
            "age_stamp": {"enum": ["atime", "ctime", "mtime"]},
            "size": {"type": ["string", "integer"]},
            "get_checksum": {"type": "boolean"},
            "read_whole_file": {"type": "boolean"},
            "encoding": {"type": "string"},
        },
        "additionalProperties": False,
    }  # fmt: skip

    @staticmethod
    def _paths(args: Mapping[str, Any]) -> list[str]:
        paths = _list(args.get("paths") or args.get("path") or args.get("name"))
        if not paths:
            raise ModuleArgError("paths is required", field="paths")
        return paths

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [find_fact(self._paths(args), args)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if args.get("get_checksum"):
            raise ModuleArgError("get_checksum is not supported (use stat on the files found)", field="get_checksum")
        self.result(args, facts, [])
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        found = facts[find_fact(self._paths(args), args).key]
        files = select(found["entries"], args, found["contains"], time.time())
        files.sort(key=lambda f: f["path"])
        out: dict[str, Any] = {"files": files, "matched": len(files), "examined": len(found["entries"])}
        if found["missing"]:
            out["skipped_paths"] = {p: f"{p} was skipped as it does not seem to be a valid directory or it cannot be accessed" for p in found["missing"]}
            out["msg"] = "Not all paths examined, check warnings for details"
        return out
