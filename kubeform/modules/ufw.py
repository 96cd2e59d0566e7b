"""ufw (community.general.ufw): the firewall's state, default policies, logging and rules.

Whether it is active is read from ``ufw status``, the default policies from
``/etc/default/ufw`` and logging from ``/etc/ufw/ufw.conf``. A rule is built as
Ansible's module builds its command line (``[route] [delete] [insert N] RULE
[DIRECTION] [on IFACE] [log] from X [port P] to Y [port Q] [proto T] [app NAME]
[comment C]``) and asked of ufw itself with ``--dry-run`` (a probe: nothing changes):
ufw answers "Skipping adding existing rule" (or "Could not delete non-existent rule")
when the rule is already as asked, and that is the plan's "no change". ufw needs root:
the probe runs with the task's become.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

STATUS = Fact(
    key="ufw:status",
    command=(
        "( command -v ufw >/dev/null 2>&1 || { echo notinstalled; exit 0; }; "
        "LC_ALL=C ufw status 2>&1 | head -n 1; cat /etc/default/ufw /etc/ufw/ufw.conf 2>/dev/null; true )"
    ),
    parse=lambda out, rc: parse_status(out),
    become=True,
)
NOOP_LINES = (
    "Skipping adding existing rule", "Skipping inserting existing rule", "Skipping adding existing rule (v6)",
    "Skipping inserting existing rule (v6)", "Could not delete non-existent rule", "Could not delete non-existent rule (v6)",
)  # fmt: skip
DIRECTIONS = ("incoming", "outgoing", "routed")


_POLICIES = {"DROP": "deny", "ACCEPT": "allow", "REJECT": "reject"}
_CHAINS = {"DEFAULT_INPUT_POLICY": "incoming", "DEFAULT_OUTPUT_POLICY": "outgoing", "DEFAULT_FORWARD_POLICY": "routed"}


def parse_status(out: str) -> dict[str, Any]:
    """Active from ``ufw status``; policies from /etc/default/ufw; logging from ufw.conf
    (``ufw status verbose`` shows neither while the firewall is inactive)."""
    info: dict[str, Any] = {"installed": out.strip() != "notinstalled", "defaults": {}, "active": False}
    for line in out.splitlines():
        if line.startswith("Status:"):
            info["active"] = line.split(":", 1)[1].strip() == "active"
        elif line.startswith("ERROR"):
            info["error"] = line
        key, sep, value = line.partition("=")
        value = value.strip().strip('"')
        if not sep:
            continue
        if key in _CHAINS:
            info["defaults"][_CHAINS[key]] = _POLICIES.get(value, value.lower())
        elif key == "LOGLEVEL":
            info["logging"] = "off" if value == "off" else "on"
            info["logging_level"] = "" if value == "off" else value
    return info


def rule_words(args: Mapping[str, Any]) -> list[str]:
    """Ansible's ufw command line for a rule (without ``ufw`` and ``--dry-run``)."""
    words: list[str] = []
    if args.get("route"):
        words.append("route")
    if args.get("delete"):
        words.append("delete")
    if args.get("insert") is not None:
        words += ["insert", str(args["insert"])]
    words.append(str(args["rule"]))
    direction = args.get("direction")
    if direction in ("in", "incoming"):
        words.append("in")
    elif direction in ("out", "outgoing"):
        words.append("out")
    if args.get("interface"):
        words += ["on", str(args["interface"])]
    if args.get("interface_in"):
        words += ["in", "on", str(args["interface_in"])]
    if args.get("interface_out"):
        words += ["out", "on", str(args["interface_out"])]
    if args.get("log"):
        words.append("log")
    src = args.get("from_ip", args.get("from", args.get("src"))) or "any"
    dst = args.get("to_ip", args.get("to", args.get("dest"))) or "any"
    words += ["from", str(src)]
    if args.get("from_port") is not None:
        words += ["port", str(args["from_port"])]
    words += ["to", str(dst)]
    to_port = args.get("to_port", args.get("port"))
    if to_port is not None:
        words += ["port", str(to_port)]
    if args.get("proto") and args["proto"] != "any":
        words += ["proto", str(args["proto"])]
    name = args.get("name", args.get("app"))
    if name:
        words += ["app", str(name)]
    if args.get("comment"):
        words += ["comment", str(args["comment"])]
    return words


def dry_run_fact(words: list[str]) -> Fact:
    line = shlex.join(words)
    return Fact(
        key=f"ufw:dry-run:{line}",
        command=f"( LC_ALL=C ufw --dry-run {line} 2>&1; echo \"rc=$?\" )",
        parse=lambda out, rc: out,
        become=True,
        volatile=True,
    )


def already(out: str) -> bool:
    """Whether ufw's dry run says the rule is already as asked."""
    lines = [ln.strip() for ln in out.splitlines() if ln.strip() and not ln.startswith("rc=")]
    return bool(lines) and all(ln in NOOP_LINES for ln in lines)


class Ufw(Module):
    """Ansible's ufw: state, default/policy, direction, logging, rule, from/to ip and port, proto, ..."""

    name: ClassVar[str] = "ufw"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "state": {"enum": ["enabled", "disabled", "reloaded", "reset"]},
            "default": {"enum": ["allow", "deny", "reject"]},
            "policy": {"enum": ["allow", "deny", "reject"]},
            "direction": {"enum": ["in", "incoming", "out", "outgoing", "routed"]},
            "logging": {"enum": ["on", "off", "low", "medium", "high", "full", True, False]},
            "rule": {"enum": ["allow", "deny", "limit", "reject"]},
            "insert": {"type": "integer"},
            "insert_relative_to": {"enum": ["zero", "first-ipv4", "last-ipv4", "first-ipv6", "last-ipv6"]},
            "interface": {"type": "string"}, "if": {"type": "string"},
            "interface_in": {"type": "string"}, "interface_out": {"type": "string"},
            "log": {"type": "boolean"},
            "from_ip": {"type": "string"}, "from": {"type": "string"}, "src": {"type": "string"},
            "from_port": {"type": ["string", "integer"]},
            "to_ip": {"type": "string"}, "to": {"type": "string"}, "dest": {"type": "string"},
            "to_port": {"type": ["string", "integer"]}, "port": {"type": ["string", "integer"]},
            "proto": {"enum": ["any", "tcp", "udp", "ipv6", "esp", "ah", "gre", "igmp", "vrrp"]},
            "name": {"type": "string"}, "app": {"type": "string"},
            "delete": {"type": "boolean"},
            "route": {"type": "boolean"},
            "comment": {"type": "string"},
        },
        "additionalProperties": False,
    }  # fmt: skip

    @staticmethod
    def _args(args: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(args)
        if "if" in out:
            out.setdefault("interface", out.pop("if"))
        if out.get("insert_relative_to") not in (None, "zero"):
            raise ModuleArgError("insert_relative_to other than zero is not supported", field="insert_relative_to")
        return out

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        a = self._args(args)
        out = [STATUS]
        if a.get("rule"):
            out.append(dry_run_fact(rule_words(a)))
        return out

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        a = self._args(args)
        status = facts[STATUS.key]
        if not status["installed"]:
            raise ModuleArgError("ufw is not installed on the host", field="state")
        if "error" in status:
            raise ModuleArgError(f"ufw: {status['error']}", field="state")
        if not any(a.get(k) is not None for k in ("state", "default", "policy", "logging", "rule")):
            raise ModuleArgError("give at least one of state, default (policy), logging or rule", field="state")
        # In Ansible's order: state, default, rule, logging.
        return [*_state(a, status), *_policy(a, status), *_rule(a, facts), *_logging(a, status)]


def _state(a: Mapping[str, Any], status: Mapping[str, Any]) -> list[Change]:
    state = a.get("state")
    if state == "enabled" and not status.get("active"):
        return [Change("change", "enable ufw", (Run("ufw --force enable"),), Diff("ufw", "inactive", "active"))]
    if state == "disabled" and status.get("active"):
        return [Change("change", "disable ufw", (Run("ufw disable"),), Diff("ufw", "active", "inactive"))]
    if state == "reloaded":
        return [Change("change", "reload ufw", (Run("ufw reload"),))]
    if state == "reset":
        return [Change("change", "reset ufw", (Run("ufw --force reset"),))]
    return []


def _policy(a: Mapping[str, Any], status: Mapping[str, Any]) -> list[Change]:
    policy = a.get("default", a.get("policy"))
    if not policy:
        return []
    raw = str(a.get("direction") or "incoming")
    direction = {"in": "incoming", "out": "outgoing"}.get(raw, raw)
    current = status["defaults"].get(direction)
    if current == policy:
        return []
    return [Change("change", f"default {policy} {direction}", (Run(f"ufw default {policy} {direction}"),), Diff(f"ufw default {direction}", current or "", str(policy)))]


def _rule(a: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
    if not a.get("rule"):
        return []
    words = rule_words(a)
    answer = facts[dry_run_fact(words).key]
    if "ERROR" in answer:
        raise ModuleArgError(f"ufw refuses the rule: {answer.strip().splitlines()[0]}", field="rule")
    if already(answer):
        return []
    return [Change("remove" if a.get("delete") else "add", f"ufw {' '.join(words)}", (Run(f"ufw {shlex.join(words)}"),))]


def _logging(a: Mapping[str, Any], status: Mapping[str, Any]) -> list[Change]:
    logging = a.get("logging")
    if logging is None:
        return []
    want = "on" if logging is True else "off" if logging is False else str(logging)
    have, level = status.get("logging", ""), status.get("logging_level", "")
    if (want == have and want in ("on", "off")) or (have == "on" and want == level):
        return []
    return [Change("change", f"logging {want}", (Run(f"ufw logging {want}"),), Diff("ufw logging", f"{have} {level}".strip(), want))]
