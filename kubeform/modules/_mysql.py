"""What the community.mysql modules share: Ansible's ``login_*`` arguments, the ``mysql``
client command line built from them, and a step that runs SQL without showing secrets.

The modules run SQL through the host's ``mysql`` client (Ansible's need PyMySQL on the
host instead). The password travels in ``MYSQL_PWD`` (never a command-line argument,
so ``ps`` does not show it) and SQL is fed on stdin; plans show the SQL with every
password replaced by ``********``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeform.modules.base import ModuleArgError, Step, StepContext, StepResult

HIDDEN = "********"

LOGIN_ARGS: dict[str, Any] = {
    "login_user": {"type": "string"},
    "login_password": {"type": "string"},
    "login_host": {"type": "string"},
    "login_port": {"type": "integer"},
    "login_unix_socket": {"type": "string"},
    "config_file": {"type": "string"},
    "check_implicit_admin": {"type": "boolean"},
    "connect_timeout": {"type": "integer"},
    "ca_cert": {"type": "string"},
    "client_cert": {"type": "string"},
    "client_key": {"type": "string"},
    "check_hostname": {"type": "boolean"},
}


def client(args: Mapping[str, Any]) -> str:
    """``mysql`` with the task's login options (batch, no headers, tab-separated)."""
    opts = ["mysql"]
    if args.get("config_file"):
        opts.append(f"--defaults-extra-file={shlex.quote(str(args['config_file']))}")
    for key, flag in (("login_user", "-u"), ("login_host", "-h"), ("login_port", "-P"), ("login_unix_socket", "-S")):
        if args.get(key) not in (None, ""):
            opts += [flag, shlex.quote(str(args[key]))]
    if args.get("connect_timeout"):
        opts.append(f"--connect-timeout={int(args['connect_timeout'])}")
    opts += ["-N", "-B"]
    env = f"MYSQL_PWD={shlex.quote(str(args['login_password']))} " if args.get("login_password") else ""
    return env + " ".join(opts)


def query_command(args: Mapping[str, Any], sql: str) -> str:
    """A probe running ``sql``; a missing client or a refused login says so on its last line."""
    return (
        "( if ! command -v mysql >/dev/null 2>&1; then echo 'kubeform-mysql: no mysql client on the host'; exit 0; fi; "
        f"{client(args)} -e {shlex.quote(sql)} 2>&1 || echo 'kubeform-mysql: query failed' )"
    )


def check_answer(out: str) -> str:
    """The probe's output, or the error it reports (as the module's failure)."""
    lines = out.splitlines()
    if lines and lines[-1].startswith("kubeform-mysql:"):
        detail = "\n".join(lines[:-1]).strip()
        what = lines[-1].split(":", 1)[1].strip()
        raise ModuleArgError(f"cannot connect to MySQL ({what}){': ' + detail[:200] if detail else ''}")
    return out


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class SQL(Step):
    """Run SQL statements through the client; ``secrets`` are masked in ``describe``."""

    args: Mapping[str, Any]
    sql: str
    secrets: tuple[str, ...] = ()

    def describe(self) -> str:
        shown = self.sql
        for s in self.secrets:
            if s:
                shown = shown.replace(quote_str(s), f"'{HIDDEN}'")
        return f"mysql: {shown}"

    def execute(self, ctx: StepContext) -> StepResult:
        res = ctx.conn.run(client(self.args), become=ctx.become, become_user=ctx.become_user, stdin=self.sql.encode())
        return StepResult(rc=res.rc, stdout=res.stdout, stderr=res.stderr)
