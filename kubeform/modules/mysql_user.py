"""mysql_user: a MySQL/MariaDB account, its password and privileges (community.mysql's).

One probe reads the account (``mysql.user``: its plugin and stored hash) and its grants
(``SHOW GRANTS``). ``priv`` is Ansible's ``db.table:PRIV,PRIV/db2.*:ALL,GRANT`` (or a
mapping); the grants are compared per object, so a second run changes nothing. The
password is compared as ``mysql_native_password`` stores it (``*`` + SHA1(SHA1(pw)));
for another plugin (MySQL 8's ``caching_sha2_password``) the stored hash cannot be
recomputed here, so an existing account's password is only set with ``update_password:
always`` when the plugin is the native one, and left alone otherwise (said in the plan
summary when it matters). Passwords never appear in plans or results.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._mysql import LOGIN_ARGS, SQL, check_answer, client, query_command, quote_str
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError

Privs = dict[str, frozenset[str]]


def native_hash(password: str) -> str:
    """The ``mysql_native_password`` hash: ``*`` + upper hex SHA1(SHA1(password))."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()


def _norm_object(obj: str) -> str:
    obj = obj.strip().replace("`", "").replace('"', "")
    db, _, table = obj.partition(".")
    return f"{db}.{table or '*'}"


def _norm_privs(items: list[str]) -> frozenset[str]:
    out = set()
    for p in items:
        p = re.sub(r"\s+", " ", p.strip().upper())
        if not p:
            continue
        out.add("ALL PRIVILEGES" if p == "ALL" else p)
    return frozenset(out)


def parse_priv(value: Any) -> Privs:
    """Ansible's ``priv``: ``"db.*:SELECT,INSERT/db2.t:ALL,GRANT"`` or ``{db.*: "SELECT,..."}``."""
    if value in (None, ""):
        return {}
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        pairs = [(str(k), ",".join(v) if isinstance(v, list) else str(v)) for k, v in value.items()]
    else:
        for part in str(value).split("/"):
            obj, sep, privs = part.rpartition(":")
            if not sep or not obj:
                raise ModuleArgError(f"priv part {part!r} is not object:PRIVS", field="priv")
            pairs.append((obj, privs))
    return {_norm_object(obj): _norm_privs(privs.split(",")) for obj, privs in pairs}


_GRANT = re.compile(r"^GRANT (?P<privs>.+?) ON (?P<obj>\S+) TO .+?(?P<grant> WITH GRANT OPTION)?$")


def parse_grants(lines: list[str]) -> Privs:
    """``SHOW GRANTS`` lines -> object -> privileges (``GRANT`` for WITH GRANT OPTION)."""
    out: dict[str, set[str]] = {}
    for line in lines:
        m = _GRANT.match(line.strip())
        if not m or m.group("privs").startswith("PROXY"):
            continue
        obj = _norm_object(m.group("obj"))
        privs = set(_norm_privs(re.split(r",\s*(?![^()]*\))", m.group("privs"))))
        if m.group("grant"):
            privs.add("GRANT")
        out.setdefault(obj, set()).update(privs)
    return {k: frozenset(v) for k, v in out.items()}


def parse_account(out: str, rc: int) -> dict[str, Any] | None:
    """None when the account does not exist, else its plugin, hash and grants."""
    text = check_answer(out)
    account: dict[str, Any] | None = None
    grants: list[str] = []
    for line in text.splitlines():
        if line.startswith("account\t"):
            parts = [*line.split("\t"), "", ""][:3]
            account = {"plugin": parts[1], "hash": parts[2]}
        elif line.startswith("GRANT "):
            grants.append(line)
    if account is None:
        return None
    account["privs"] = parse_grants(grants)
    return account


def _account(args: Mapping[str, Any]) -> str:
    return f"{quote_str(str(args['name']))}@{quote_str(str(args.get('host', 'localhost')))}"


def _priv_text(privs: Privs) -> str:
    return "/".join(f"{obj}:{','.join(sorted(p))}" for obj, p in sorted(privs.items())) or "(none)"


def _target(obj: str) -> str:
    """``db.table`` as SQL: names quoted, ``*`` kept."""
    db, _, table = obj.partition(".")
    return ("*" if db == "*" else f"`{db}`") + "." + ("*" if table == "*" else f"`{table}`")


def _revoke(obj: str, privs: frozenset[str], acct: str) -> str:
    extra = ", GRANT OPTION" if "GRANT" in privs else ""
    return f"REVOKE ALL PRIVILEGES{extra} ON {_target(obj)} FROM {acct}"


class MysqlUser(Module):
    """``name``, ``host``, ``password``, ``encrypted``, ``priv``, ``append_privs``, ``state``,
    ``update_password``, ``login_*``."""

    name: ClassVar[str] = "mysql_user"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "host": {"type": "string"},
            "password": {"type": "string"},
            "encrypted": {"type": "boolean"},
            "priv": {"type": ["string", "object"]},
            "append_privs": {"type": "boolean"},
            "state": {"enum": ["present", "absent"]},
            "update_password": {"enum": ["always", "on_create"]},
            "host_all": {"type": "boolean"},
            "column_case_sensitive": {"type": "boolean"},
            "tls_requires": {"type": ["object", "null"]},
            "plugin": {"type": "string"},
            **LOGIN_ARGS,
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        user, host = quote_str(str(args["name"])), quote_str(str(args.get("host", "localhost")))
        sql = f"SELECT 'account', plugin, authentication_string FROM mysql.user WHERE User={user} AND Host={host}"
        # SHOW GRANTS fails for a missing account: its error is dropped (no account line then).
        grants = f"{client(args)} -e {shlex.quote('SHOW GRANTS FOR ' + _account(args))} 2>/dev/null"
        cmd = f"{query_command(args, sql)}; if command -v mysql >/dev/null 2>&1; then {grants}; fi; true"
        return [Fact(f"mysql_user:{args['name']}@{args.get('host', 'localhost')}", cmd, parse_account)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if args.get("tls_requires"):
            raise ModuleArgError("tls_requires is not supported", field="tls_requires")
        (fact,) = self.facts(args)
        cur: dict[str, Any] | None = facts[fact.key]
        who = f"{args['name']}@{args.get('host', 'localhost')}"
        acct = _account(args)
        password = args.get("password")
        secrets = (str(password),) if password else ()
        if args.get("state", "present") == "absent":
            if cur is None:
                return []
            return [Change("remove", f"drop MySQL user {who}", (SQL(args, f"DROP USER {acct}"),), Diff(f"mysql user {who}", "present", "absent"))]
        want = parse_priv(args.get("priv")) if "priv" in args else None
        if cur is None:
            create = [f"CREATE USER {acct}" + (self._identified(args) if password else "")]
            create += [self._grant(obj, privs, acct) for obj, privs in (want or {}).items()]
            shown = "present" + (f", privileges {_priv_text(want)}" if want else "")
            return [Change("add", f"create MySQL user {who}", (SQL(args, "; ".join(create), secrets),), Diff(f"mysql user {who}", "absent", shown))]
        sql: list[str] = []
        before: list[str] = []
        after: list[str] = []
        if password and args.get("update_password", "always") == "always":
            stored = str(cur.get("hash") or "")
            wanted_hash = str(password) if args.get("encrypted") else native_hash(str(password))
            if cur.get("plugin") in ("mysql_native_password", "") and stored != wanted_hash:
                sql.append(f"ALTER USER {acct}{self._identified(args)}")
                before.append("password: (hidden)")
                after.append("password: (hidden, changed)")
        if want is not None:
            have: Privs = {k: v for k, v in cur["privs"].items() if not (k == "*.*" and v == frozenset({"USAGE"}))}
            target = {k: v for k, v in want.items() if not (k == "*.*" and v == frozenset({"USAGE"}))}
            for obj, privs in target.items():
                cur_p = have.get(obj, frozenset())
                if args.get("append_privs"):
                    missing = privs - cur_p
                    if missing:
                        sql.append(self._grant(obj, frozenset(missing), acct))
                elif cur_p != privs:
                    if cur_p:
                        sql.append(_revoke(obj, cur_p, acct))
                    sql.append(self._grant(obj, privs, acct))
            if not args.get("append_privs"):
                for obj, cur_p in have.items():
                    if obj not in target:
                        sql.append(_revoke(obj, cur_p, acct))
            if any(s.startswith(("GRANT", "REVOKE")) for s in sql):
                before.append(f"privileges: {_priv_text(have)}")
                after.append(f"privileges: {_priv_text(target if not args.get('append_privs') else {**have, **{k: have.get(k, frozenset()) | v for k, v in target.items()}})}")
        if not sql:
            return []
        return [Change("change", f"MySQL user {who}: " + ", ".join(b.split(":")[0] for b in before), (SQL(args, "; ".join(sql), secrets),),
                       Diff(f"mysql user {who}", "\n".join(before) + "\n", "\n".join(after) + "\n"))]  # fmt: skip

    @staticmethod
    def _identified(args: Mapping[str, Any]) -> str:
        password = str(args["password"])
        if args.get("encrypted"):
            return f" IDENTIFIED WITH mysql_native_password AS {quote_str(password)}"
        return f" IDENTIFIED BY {quote_str(password)}"

    @staticmethod
    def _grant(obj: str, privs: frozenset[str], acct: str) -> str:
        plain = sorted(p for p in privs if p != "GRANT")
        return f"GRANT {', '.join(plain) or 'USAGE'} ON {_target(obj)} TO {acct}" + (" WITH GRANT OPTION" if "GRANT" in privs else "")

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[Any]) -> dict[str, Any]:
        return {"user": args["name"]}
