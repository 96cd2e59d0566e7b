"""stat: what is at a path (Ansible's ``stat``), for ``register`` and later ``when``.

Read-only: it plans no change, so it reports the same in check mode and in apply, and
the registered ``stat`` is real in a plan. One probe per path (POSIX sh + coreutils:
``stat -c``, ``readlink``, ``sha1sum``/``sha256sum``/``md5sum``), batched with the
other facts. ``follow: false`` (Ansible's default) describes a symlink itself.
"""

from __future__ import annotations

import shlex
import stat as st
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import str_arg
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult

_SUMS = {"sha1": "sha1sum", "sha256": "sha256sum", "md5": "md5sum", "sha224": "sha224sum", "sha384": "sha384sum", "sha512": "sha512sum"}
_FIELDS = ("rawmode", "mode", "uid", "gid", "pw_name", "gr_name", "size", "mtime", "atime", "ctime", "inode", "dev", "nlink")


def stat_command(path: str, follow: bool, algorithm: str | None) -> str:
    """The probe: one ``stat`` line, the link's target, access bits and the checksum."""
    q = shlex.quote(path)
    flag = "-L " if follow else ""
    reg = '[ -f "$p" ]' if follow else '[ -f "$p" ] && [ ! -L "$p" ]'
    checksum = (
        f'if {reg} && [ -r "$p" ]; then echo "checksum=$({_SUMS[algorithm]} < "$p" | cut -d" " -f1)"; fi; '
        if algorithm else ""
    )  # fmt: skip
    return (
        f'( p={q}; if [ -e "$p" ] || [ -L "$p" ]; then '
        f'stat {flag}-c "stat=%f|%a|%u|%g|%U|%G|%s|%Y|%X|%Z|%i|%d|%h" "$p" || exit 1; '
        'if [ -L "$p" ]; then echo "lnk_target=$(readlink "$p")"; echo "lnk_source=$(readlink -f "$p")"; fi; '
        f"{checksum}"
        '[ -r "$p" ] && echo readable=1; [ -w "$p" ] && echo writeable=1; [ -x "$p" ] && echo executable=1; '
        "else echo absent; fi; exit 0 )"
    )


def parse_stat(path: str, out: str, rc: int) -> dict[str, Any]:
    """Ansible's ``stat`` dictionary from the probe's output."""
    vals: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            vals[key.strip()] = value
        elif line.strip() == "absent":
            return {"exists": False}
    if rc != 0 or "stat" not in vals:
        raise ModuleArgError(f"cannot stat {path} (rc {rc}): {out.strip()[:200]}")
    raw = dict(zip(_FIELDS, vals["stat"].split("|"), strict=True))
    kind = st.S_IFMT(int(raw["rawmode"], 16))
    mode = int(raw["mode"], 8)
    info: dict[str, Any] = {
        "exists": True,
        "path": path,
        "mode": f"{mode:04o}",
        "isdir": kind == st.S_IFDIR,
        "isreg": kind == st.S_IFREG,
        "islnk": kind == st.S_IFLNK,
        "isblk": kind == st.S_IFBLK,
        "ischr": kind == st.S_IFCHR,
        "isfifo": kind == st.S_IFIFO,
        "issock": kind == st.S_IFSOCK,
        "uid": int(raw["uid"]),
        "gid": int(raw["gid"]),
        "pw_name": raw["pw_name"],
        "gr_name": raw["gr_name"],
        "size": int(raw["size"]),
        "mtime": float(raw["mtime"]),
        "atime": float(raw["atime"]),
        "ctime": float(raw["ctime"]),
        "inode": int(raw["inode"]),
        "dev": int(raw["dev"]),
        "nlink": int(raw["nlink"]),
        "readable": "readable" in vals,
        "writeable": "writeable" in vals,
        "executable": "executable" in vals,
        "xusr": bool(mode & st.S_IXUSR), "rusr": bool(mode & st.S_IRUSR), "wusr": bool(mode & st.S_IWUSR),
        "xgrp": bool(mode & st.S_IXGRP), "rgrp": bool(mode & st.S_IRGRP), "wgrp": bool(mode & st.S_IWGRP),
        "xoth": bool(mode & st.S_IXOTH), "roth": bool(mode & st.S_IROTH), "woth": bool(mode & st.S_IWOTH),
        "isuid": bool(mode & st.S_ISUID), "isgid": bool(mode & st.S_ISGID),
    }  # fmt: skip
    if "lnk_target" in vals:
        info["lnk_target"] = vals["lnk_target"]
        info["lnk_source"] = vals["lnk_source"]
    if "checksum" in vals:
        info["checksum"] = vals["checksum"]
    return info


class Stat(Module):
    """Ansible's ``stat``: registers ``stat.exists``, ``stat.isdir``, ``stat.mode``, ``stat.checksum`` ..."""

    name: ClassVar[str] = "stat"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "minLength": 1},
            "dest": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "follow": {"type": "boolean"},
            "get_checksum": {"type": "boolean"},
            "checksum_algorithm": {"enum": sorted(_SUMS)},
            "checksum": {"enum": sorted(_SUMS)},
            "checksum_algo": {"enum": sorted(_SUMS)},
            "get_mime": {"type": "boolean"},
            "get_attributes": {"type": "boolean"},
        },
        "additionalProperties": False,
        "anyOf": [{"required": ["path"]}, {"required": ["dest"]}, {"required": ["name"]}],
    }

    @staticmethod
    def _fact(args: Mapping[str, Any]) -> Fact:
        path = str_arg(args, "path", "dest", "name") or ""
        follow = bool(args.get("follow", False))
        algorithm = None
        if args.get("get_checksum", True):
            algorithm = str_arg(args, "checksum_algorithm", "checksum", "checksum_algo") or "sha1"
        return Fact(
            key=f"stat:{path}:{int(follow)}:{algorithm or ''}",
            command=stat_command(path, follow, algorithm),
            parse=lambda out, rc: parse_stat(path, out, rc),
        )

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [self._fact(args)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        return {"stat": facts[self._fact(args).key]}
