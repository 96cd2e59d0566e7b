"""user: a local account (Ansible's ``user``) with shadow-utils' useradd/usermod/userdel.

One probe per user: its passwd line, primary and supplementary groups (``id``) and its
shadow fields (password hash and expiry; readable with become). Only the attributes a
task names are compared, as in Ansible: ``groups`` replaces the supplementary groups
unless ``append: true``; ``password`` (a crypt hash, as Ansible takes it) is set on
creation and, with ``update_password: always`` (the default), whenever it differs — the
diff never shows it. ``generate_ssh_key`` and the non-Linux options are not supported.
"""

from __future__ import annotations

import datetime
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult

HIDDEN = "********"


@dataclass(frozen=True)
class _Account(Run):
    """useradd/usermod whose password hash is masked in plans and logs."""

    secret: str = ""

    def describe(self) -> str:
        return self.command.replace(shlex.quote(self.secret), HIDDEN) if self.secret else self.command


def user_fact(name: str) -> Fact:
    q = shlex.quote(name)
    cmd = (
        f"( n={q}; e=$(getent passwd \"$n\") || {{ echo absent; exit 0; }}; echo \"passwd=$e\"; "
        'echo "primary=$(id -gn "$n")"; echo "groups=$(id -Gn "$n")"; '
        'echo "shadow=$(getent shadow "$n" 2>/dev/null | cut -d: -f2,8)"; '
        'echo "aging=$(getent shadow "$n" 2>/dev/null | cut -d: -f4,5,6)" )'
    )
    return Fact(key=f"user:{name}", command=cmd, parse=parse_user)


def parse_user(out: str, rc: int) -> dict[str, Any] | None:
    """The account, or None when absent."""
    vals: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            vals[key] = value
        elif line.strip() == "absent":
            return None
    if "passwd" not in vals:
        raise ModuleArgError(f"cannot read the account (rc {rc}): {out.strip()[:200]}")
    f = (vals["passwd"].split(":") + [""] * 7)[:7]
    primary = vals.get("primary", "")
    hashed, _, expires = vals.get("shadow", "").partition(":")
    min_days, max_days, warn_days = ([*vals.get("aging", "").split(":"), "", "", ""])[:3]
    return {
        "password_expire_min": min_days, "password_expire_max": max_days, "password_expire_warn": warn_days,
        "name": f[0], "uid": int(f[2]), "gid": int(f[3]), "comment": f[4], "home": f[5], "shell": f[6],
        "group": primary, "groups": [g for g in vals.get("groups", "").split() if g != primary],
        "password": hashed if vals.get("shadow") else None, "expires": expires,
    }  # fmt: skip


def group_list(value: Any) -> list[str]:
    """Ansible takes ``groups`` as a list or a comma-separated string."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [g.strip() for g in items if g.strip()]


class User(Module):
    """Ansible's user: name, state, uid, group, groups, append, comment, home, shell, ..."""

    name: ClassVar[str] = "user"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "state": {"enum": ["present", "absent"]},
            "uid": {"type": ["integer", "string"]},
            "group": {"type": "string"},
            "groups": {"type": ["array", "string", "null"], "items": {"type": "string"}},
            "append": {"type": "boolean"},
            "comment": {"type": "string"},
            "home": {"type": "string"},
            "shell": {"type": "string"},
            "password": {"type": "string"},
            "update_password": {"enum": ["always", "on_create"]},
            "password_lock": {"type": "boolean"},
            "create_home": {"type": "boolean"},
            "createhome": {"type": "boolean"},
            "move_home": {"type": "boolean"},
            "system": {"type": "boolean"},
            "non_unique": {"type": "boolean"},
            "remove": {"type": "boolean"},
            "force": {"type": "boolean"},
            "expires": {"type": ["number", "integer"]},
            "password_expire_max": {"type": "integer"},
            "password_expire_min": {"type": "integer"},
            "password_expire_warn": {"type": "integer"},
            "skeleton": {"type": "string"},
            "umask": {"type": "string"},
            "local": {"type": "boolean"},
        },
        "required": ["name"],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [user_fact(str(args["name"]))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        name = str(args["name"])
        q = shlex.quote(name)
        current = facts[f"user:{name}"]
        if args.get("uid") is not None and not str(args["uid"]).isdigit():
            raise ModuleArgError(f"uid must be a number, not {args['uid']!r}", field="uid")
        if args.get("state", "present") == "absent":
            if current is None:
                return []
            opts = (" -r" if args.get("remove") else "") + (" -f" if args.get("force") else "")
            return [Change("remove", f"remove user {name}", (Run(f"userdel{opts} {q}"),), Diff(f"user {name}", "present", "absent"))]
        if current is None:
            return [self._create(name, args)]
        return self._modify(name, args, current)

    def _create(self, name: str, args: Mapping[str, Any]) -> Change:
        opts: list[str] = []
        shown: list[str] = []
        for arg, flag in (("uid", "-u"), ("group", "-g"), ("comment", "-c"), ("home", "-d"), ("shell", "-s"), ("skeleton", "-k")):
            if args.get(arg) is not None:
                opts += [flag, shlex.quote(str(args[arg]))]
                shown.append(f"{arg}={args[arg]}")
        groups = group_list(args.get("groups"))
        if groups:
            opts += ["-G", shlex.quote(",".join(groups))]
            shown.append(f"groups={','.join(groups)}")
        if args.get("non_unique") and args.get("uid") is not None:
            opts.append("-o")
        if args.get("system"):
            opts.append("-r")
        create_home = args.get("create_home", args.get("createhome", True))
        opts.append("-m" if create_home else "-M")
        if args.get("password") is not None:
            opts += ["-p", shlex.quote(str(args["password"]))]
        if args.get("expires") is not None:
            opts += ["-e", shlex.quote(_expiry_date(args["expires"]))]
        if args.get("umask"):
            opts += ["-K", shlex.quote(f"UMASK={args['umask']}")]
        steps: list[Run] = [_Account(f"useradd {' '.join(opts)} {shlex.quote(name)}", secret=str(args.get("password") or ""))]
        if args.get("password_lock"):
            steps.append(Run(f"usermod -L {shlex.quote(name)}"))
        aging = _aging_flags(args, None)
        if aging:
            steps.append(Run(f"chage {' '.join(f.split('=')[1] for f in aging)} {shlex.quote(name)}"))
        after = "present" + (f" ({', '.join(shown)})" if shown else "")
        return Change("add", f"add user {name}", tuple(steps), Diff(f"user {name}", "absent", after))

    def _modify(self, name: str, args: Mapping[str, Any], cur: Mapping[str, Any]) -> list[Change]:
        opts: list[str] = []
        notes: list[tuple[str, str, str]] = []
        if args.get("uid") is not None and int(args["uid"]) != cur["uid"]:
            opts += ["-u", str(int(args["uid"]))] + (["-o"] if args.get("non_unique") else [])
            notes.append(("uid", str(cur["uid"]), str(args["uid"])))
        group = args.get("group")
        if group is not None and str(group) not in (cur["group"], str(cur["gid"])):
            opts += ["-g", shlex.quote(str(group))]
            notes.append(("group", cur["group"], str(group)))
        if args.get("groups") is not None:
            want = group_list(args["groups"])
            have: Sequence[str] = cur["groups"]
            if args.get("append"):
                missing = [g for g in want if g not in have]
                if missing:
                    opts += ["-a", "-G", shlex.quote(",".join(missing))]
                    notes.append(("groups", ",".join(have), ",".join([*have, *missing])))
            elif sorted(set(want) - {cur["group"]}) != sorted(have):
                opts += ["-G", shlex.quote(",".join(want))]
                notes.append(("groups", ",".join(have), ",".join(want)))
        for arg, flag in (("comment", "-c"), ("home", "-d"), ("shell", "-s")):
            value = args.get(arg)
            if value is not None and str(value) != cur[arg]:
                opts += [flag, shlex.quote(str(value))]
                if arg == "home" and args.get("move_home"):
                    opts.append("-m")
                notes.append((arg, cur[arg], str(value)))
        password = args.get("password")
        if password is not None and args.get("update_password", "always") == "always" and cur["password"] is not None:
            if str(password) != cur["password"].lstrip("!"):
                opts += ["-p", shlex.quote(str(password))]
                notes.append(("password", "(hidden)", "(hidden, changed)"))
        if args.get("expires") is not None:
            days = _expiry_days(args["expires"])
            if days != cur["expires"]:
                opts += ["-e", shlex.quote(_expiry_date(args["expires"]))]
                notes.append(("expires", cur["expires"] or "never", days or "never"))
        lock = args.get("password_lock")
        if lock is not None and cur["password"] is not None and cur["password"].startswith("!") != bool(lock):
            opts.append("-L" if lock else "-U")
            notes.append(("password_lock", str(not lock).lower(), str(bool(lock)).lower()))
        aging = _aging_flags(args, cur)
        notes += [(k, str(cur.get(k) or "-"), str(args[k])) for k in ("password_expire_max", "password_expire_min", "password_expire_warn") if any(k in f for f in aging)]
        if not opts and not aging:
            return []
        before = "\n".join(f"{k}: {b}" for k, b, _ in notes) + "\n"
        after = "\n".join(f"{k}: {a}" for k, _, a in notes) + "\n"
        summary = f"user {name}: " + ", ".join(k for k, _, _ in notes)
        steps: list[Run] = [_Account(f"usermod {' '.join(opts)} {shlex.quote(name)}", secret=str(password or ""))] if opts else []
        if aging:
            steps.append(Run(f"chage {' '.join(f.split('=')[1] for f in aging)} {shlex.quote(name)}"))
        return [Change("change", summary, tuple(steps), Diff(f"user {name}", before, after))]

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        cur = facts[f"user:{args['name']}"] or {}
        state = str(args.get("state", "present"))
        out: dict[str, Any] = {"name": args["name"], "state": state}
        if state == "present":
            for key in ("uid", "group", "comment", "home", "shell"):
                value = args.get(key, cur.get(key))
                if value is not None:
                    out[key] = int(value) if key == "uid" else value
            out["groups"] = ",".join(group_list(args["groups"]) if args.get("groups") is not None else cur.get("groups", []))
            out["system"] = bool(args.get("system", False))
            out["create_home"] = bool(args.get("create_home", args.get("createhome", True)))
            if args.get("password") is not None:
                out["password"] = "NOT_LOGGING_PASSWORD"
        return out


def _aging_flags(args: Mapping[str, Any], cur: Mapping[str, Any] | None) -> list[str]:
    """``chage`` flags for the password ages that differ (``key=-M 90`` pairs)."""
    out = []
    for key, flag in (("password_expire_max", "-M"), ("password_expire_min", "-m"), ("password_expire_warn", "-W")):
        value = args.get(key)
        if value is not None and (cur is None or str(cur.get(key, "")) != str(int(value))):
            out.append(f"{key}={flag} {int(value)}")
    return out


def _expiry_days(value: Any) -> str:
    """Ansible's ``expires`` (epoch seconds; negative: never) as shadow's days since the epoch."""
    seconds = float(value)
    return "" if seconds < 0 else str(int(seconds // 86400))


def _expiry_date(value: Any) -> str:
    """``useradd -e`` takes a date; an empty string (or -1) removes the expiry."""
    days = _expiry_days(value)
    if not days:
        return ""
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=int(days))).isoformat()
