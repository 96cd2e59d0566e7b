"""mysql_replication: read or steer MySQL replication (community.mysql's, common modes).

``getprimary``/``getmaster`` and ``getreplica``/``getslave`` read ``SHOW MASTER STATUS``
/ ``SHOW SLAVE STATUS`` in the probe, so their result (``File``, ``Position``,
``Is_Primary``, ``Is_Replica``...) is real in a plan too. ``startreplica``/``stopreplica``
change only when the replica threads are not already in that state;
``changeprimary``/``changemaster`` and the resets always report a change, as Ansible's do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._mysql import LOGIN_ARGS, SQL, check_answer, client, quote_str
from kubeform.modules.base import Change, Fact, Module, StepResult

READ = {"getprimary": "MASTER", "getmaster": "MASTER", "getreplica": "SLAVE", "getslave": "SLAVE"}
ALIASES = {"changemaster": "changeprimary", "startslave": "startreplica", "stopslave": "stopreplica",
           "resetmaster": "resetprimary", "resetslave": "resetreplica", "resetslaveall": "resetreplicaall"}  # fmt: skip
CHANGE_ARGS = {
    "master_host": "MASTER_HOST", "master_user": "MASTER_USER", "master_password": "MASTER_PASSWORD",
    "master_port": "MASTER_PORT", "master_log_file": "MASTER_LOG_FILE", "master_log_pos": "MASTER_LOG_POS",
    "master_connect_retry": "MASTER_CONNECT_RETRY", "master_auto_position": "MASTER_AUTO_POSITION",
    "master_ssl": "MASTER_SSL", "relay_log_file": "RELAY_LOG_FILE", "relay_log_pos": "RELAY_LOG_POS",
}  # fmt: skip
MODES = [*READ, *ALIASES, "changeprimary", "startreplica", "stopreplica", "resetprimary", "resetreplica", "resetreplicaall"]
PRIMARY_ALIASES = {k.replace("master_", "primary_"): k for k in CHANGE_ARGS if k.startswith("master_")}


def parse_status(out: str, rc: int) -> dict[str, str]:
    """Vertical ``SHOW ... STATUS\\G`` output -> field -> value ({} when not replicating)."""
    found: dict[str, str] = {}
    for line in check_answer(out).splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep and not key.startswith("*"):
            found[key] = value.strip()
    return found


class MysqlReplication(Module):
    """``mode`` and, for ``changeprimary``, the ``master_*``/``primary_*`` settings."""

    name: ClassVar[str] = "mysql_replication"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "mode": {"enum": MODES},
            **{k: {"type": ["string", "integer", "boolean"]} for k in [*CHANGE_ARGS, *PRIMARY_ALIASES]},
            "channel": {"type": "string"},
            **LOGIN_ARGS,
        },
    }

    @staticmethod
    def _mode(args: Mapping[str, Any]) -> str:
        mode = str(args.get("mode", "getreplica"))
        return ALIASES.get(mode, mode)

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        mode = self._mode(args)
        what = READ.get(mode) or ("SLAVE" if mode in ("startreplica", "stopreplica") else None)
        if what is None:
            return []
        base = client(args).replace(" -N -B", "")
        cmd = ("( if ! command -v mysql >/dev/null 2>&1; then echo 'kubeform-mysql: no mysql client on the host'; exit 0; fi; "
               f"{base} -E -e 'SHOW {what} STATUS' 2>&1 || echo 'kubeform-mysql: query failed' )")  # fmt: skip
        return [Fact(f"mysql_replication:{what}@{args.get('login_host', '')}", cmd, parse_status, volatile=True)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        mode = self._mode(args)
        if mode in READ:
            return []
        if mode in ("startreplica", "stopreplica"):
            (fact,) = self.facts(args)
            status: Mapping[str, str] = facts[fact.key]
            running = status.get("Slave_IO_Running", status.get("Replica_IO_Running")) == "Yes"
            if running == (mode == "startreplica"):
                return []
            verb = "START" if mode == "startreplica" else "STOP"
            return [Change("change", f"{verb.lower()} replication", (SQL(args, f"{verb} SLAVE"),))]
        if mode == "changeprimary":
            merged = {**{PRIMARY_ALIASES[k]: v for k, v in args.items() if k in PRIMARY_ALIASES}, **args}
            parts = []
            for key, word in CHANGE_ARGS.items():
                value = merged.get(key)
                if value is None:
                    continue
                numeric = key.endswith(("_port", "_pos", "_retry", "_position")) or isinstance(value, bool)
                parts.append(f"{word}={int(value) if numeric else quote_str(str(value))}")
            secret = (str(merged["master_password"]),) if merged.get("master_password") else ()
            return [Change("change", "change the replication source", (SQL(args, "CHANGE MASTER TO " + ", ".join(parts), secret),))]
        sql = {"resetprimary": "RESET MASTER", "resetreplica": "RESET SLAVE", "resetreplicaall": "RESET SLAVE ALL"}[mode]
        return [Change("change", sql.lower(), (SQL(args, sql),))]

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        mode = self._mode(args)
        if mode not in READ:
            return {}
        (fact,) = self.facts(args)
        status = dict(facts.get(fact.key) or {})
        if READ[mode] == "MASTER":
            on = bool(status)
            status.update({"Is_Primary": on, "Is_Master": on})
            if "Position" in status and status["Position"].isdigit():
                status["Position"] = int(status["Position"])
        else:
            on = bool(status)
            status.update({"Is_Replica": on, "Is_Slave": on})
        return status
