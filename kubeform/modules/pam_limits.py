"""pam_limits (community.general.pam_limits): one limit in limits.conf.

The edit is computed here from the file's content fact, as Ansible's module does it:
the first line for the same domain, type and item is rewritten (written
``domain<TAB>type<TAB>item<TAB>value``) when its value differs, later duplicates are
dropped, a missing limit is appended. ``use_max``/``use_min`` keep the existing value
when it is already larger/smaller (``unlimited``, ``infinity`` and ``-1`` count as
the largest).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, plan_content, split_lines
from kubeform.modules.base import Change, Fact, Module, ModuleArgError

DEFAULT_DEST = "/etc/security/limits.conf"
TYPES = ("hard", "soft", "-")
ITEMS = ("core", "data", "fsize", "memlock", "nofile", "rss", "stack", "cpu", "nproc", "as", "maxlogins",
         "maxsyslogins", "priority", "locks", "sigpending", "msgqueue", "nice", "rtprio", "chroot")  # fmt: skip
UNLIMITED = ("unlimited", "infinity", "-1")


def _number(value: str) -> float:
    return float("inf") if value in UNLIMITED else float(int(value))


def edit_limits(text: str, args: Mapping[str, Any]) -> str:
    domain, ltype, item = str(args["domain"]), str(args["limit_type"]), str(args["limit_item"])
    value = str(args["value"])
    comment = f" #{args['comment']}" if args.get("comment") else ""
    out: list[str] = []
    found = False
    for line in split_lines(text):
        body = line.split("#", 1)[0].split()
        if len(body) == 4 and body[:3] == [domain, ltype, item]:
            if found:
                continue  # a duplicate of the limit already written
            found = True
            old = body[3]
            new = value
            if args.get("use_max") or args.get("use_min"):
                if old.lstrip("-").isdigit() or old in UNLIMITED:
                    keep_old = _number(old) > _number(value) if args.get("use_max") else _number(old) < _number(value)
                    new = old if keep_old else value
            if new == old and not comment:
                out.append(line)
            else:
                out.append(f"{domain}\t{ltype}\t{item}\t{new}{comment}\n")
            continue
        out.append(line)
    if not found:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(f"{domain}\t{ltype}\t{item}\t{value}{comment}\n")
    return "".join(out)


class PamLimits(Module):
    """Ansible's pam_limits: domain, limit_type, limit_item, value, dest, use_max, use_min, ..."""

    name: ClassVar[str] = "pam_limits"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "domain": {"type": "string", "minLength": 1},
            "limit_type": {"enum": list(TYPES)},
            "limit_item": {"enum": list(ITEMS)},
            "value": {"type": ["string", "integer"]},
            "dest": {"type": "string", "minLength": 1},
            "use_max": {"type": "boolean"},
            "use_min": {"type": "boolean"},
            "backup": {"type": "boolean"},
            "create": {"type": "boolean"},
            "comment": {"type": "string"},
        },
        "required": ["domain", "limit_type", "limit_item", "value"],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(str(args.get("dest") or DEFAULT_DEST))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        dest = str(args.get("dest") or DEFAULT_DEST)
        value = str(args["value"])
        if args.get("use_max") and args.get("use_min"):
            raise ModuleArgError("use_max and use_min are mutually exclusive", field="use_min")
        if value not in UNLIMITED and not value.lstrip("-").isdigit():
            raise ModuleArgError(f"value must be a number, unlimited, infinity or -1, not {value!r}", field="value")
        if value.startswith("-") and value != "-1" and args["limit_item"] not in ("priority", "nice"):
            raise ModuleArgError(f"value {value} must not be negative", field="value")
        state: FileState = facts[f"file:{dest}"]
        if not state.exists and args.get("create") is False:
            raise ModuleArgError(f"{dest} does not exist and create is false", field="dest")
        new = edit_limits(state.text(), args)
        what = f"{args['domain']} {args['limit_type']} {args['limit_item']} {value}"
        return plan_content(dest, state, new.encode(), backup=bool(args.get("backup")), create_parent=False, follow=True, what=what)
