"""mysql_db: MySQL/MariaDB databases present or absent (community.mysql's ``mysql_db``).

One probe lists the named databases with their character set and collation; a missing
database is created with the task's ``encoding``/``collation``, an existing one is left
as it is (as Ansible does), ``absent`` drops it. ``dump`` and ``import`` are not done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._mysql import (
    LOGIN_ARGS,
    SQL,
    check_answer,
    query_command,
    quote_ident,
    quote_str,
)
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError


def names_of(args: Mapping[str, Any]) -> list[str]:
    value = args["name"]
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    names = [n.strip() for n in items if n.strip()]
    if not names:
        raise ModuleArgError("name must name a database", field="name")
    return names


def parse_schemata(out: str, rc: int) -> dict[str, tuple[str, str]]:
    """name -> (character set, collation) of the databases that exist."""
    found: dict[str, tuple[str, str]] = {}
    for line in check_answer(out).splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            found[parts[0]] = (parts[1], parts[2])
    return found


class MysqlDb(Module):
    """``name`` (one, a list or comma-separated), ``state``, ``encoding``, ``collation``, login_*."""

    name: ClassVar[str] = "mysql_db"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "state": {"enum": ["present", "absent", "dump", "import"]},
            "encoding": {"type": "string"},
            "collation": {"type": "string"},
            "target": {"type": "string"},
            **LOGIN_ARGS,
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        names = names_of(args)
        sql = ("SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
               f"WHERE SCHEMA_NAME IN ({', '.join(quote_str(n) for n in names)})")  # fmt: skip
        return [Fact(f"mysql_db:{','.join(names)}@{args.get('login_host', '')}", query_command(args, sql), parse_schemata)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        state = str(args.get("state", "present"))
        if state in ("dump", "import"):
            raise ModuleArgError(f"state {state} is not supported (use command with mysqldump/mysql)", field="state")
        (fact,) = self.facts(args)
        found: Mapping[str, tuple[str, str]] = facts[fact.key]
        changes: list[Change] = []
        for name in names_of(args):
            if state == "absent":
                if name in found:
                    changes.append(Change("remove", f"drop database {name}", (SQL(args, f"DROP DATABASE {quote_ident(name)}"),),
                                          Diff(f"database {name}", "present", "absent")))  # fmt: skip
                continue
            if name in found:
                continue
            sql = f"CREATE DATABASE {quote_ident(name)}"
            if args.get("encoding"):
                sql += f" CHARACTER SET {quote_ident(str(args['encoding']))}"
            if args.get("collation"):
                sql += f" COLLATE {quote_ident(str(args['collation']))}"
            changes.append(Change("add", f"create database {name}", (SQL(args, sql),), Diff(f"database {name}", "absent", "present")))
        return changes
