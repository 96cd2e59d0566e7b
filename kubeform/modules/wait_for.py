"""wait_for: wait on the host until a TCP port opens/closes or a file appears/goes/matches.

The condition is first checked as a fact, so a condition that already holds (and no
``delay``) plans nothing, and check mode shows "would wait". Otherwise the change is
one ``WaitFor`` step that re-runs the same probe through the connection every ``sleep``
seconds until it holds or ``timeout`` passes (then the task fails with ``msg``). With
neither ``port`` nor ``path`` the task just sleeps ``timeout`` seconds, as in Ansible.
Ports are probed from the host itself (bash's /dev/tcp, else ``nc -z``), like Ansible.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, parse_file
from kubeform.modules.base import (
    Change,
    Fact,
    Module,
    ModuleArgError,
    Step,
    StepContext,
    StepResult,
)


@dataclass(frozen=True)
class WaitFor(Step):
    """Poll ``command`` on the host until ``done(stdout, rc)`` or the timeout."""

    what: str
    command: str
    done: Callable[[str, int], bool]
    timeout: float
    delay: float = 0.0
    sleep: float = 1.0
    msg: str | None = None

    def describe(self) -> str:
        return f"wait up to {self.timeout:g}s for {self.what}"

    def execute(self, ctx: StepContext) -> StepResult:
        start = time.monotonic()
        if self.delay:
            time.sleep(self.delay)
        deadline = start + self.delay + self.timeout
        while True:
            res = ctx.conn.run(self.command, become=ctx.become, become_user=ctx.become_user)
            if self.done(res.stdout, res.rc):
                return StepResult(extra={"elapsed": round(time.monotonic() - start, 1)})
            left = deadline - time.monotonic()
            if left <= 0:
                return StepResult(
                    rc=1,
                    stderr=self.msg or f"Timeout when waiting for {self.what}",
                    extra={"elapsed": round(time.monotonic() - start, 1)},
                )
            time.sleep(min(self.sleep, left))


@dataclass(frozen=True)
class Sleep(Step):
    """Wait a fixed time (wait_for without port or path)."""

    seconds: float

    def describe(self) -> str:
        return f"sleep {self.seconds:g}s"

    def execute(self, ctx: StepContext) -> StepResult:
        time.sleep(self.seconds)
        return StepResult(extra={"elapsed": self.seconds})


def port_command(host: str, port: int, connect_timeout: float) -> str:
    """Prints ``open`` or ``closed``; POSIX sh calling bash's /dev/tcp or nc."""
    target = f"/dev/tcp/{host}/{port}"
    ct = f"{connect_timeout:g}"
    bash_probe = shlex.quote(f"exec 3<>{target}")
    return (
        "( if command -v bash >/dev/null 2>&1; then "
        f"timeout {ct} bash -c {bash_probe} >/dev/null 2>&1; "
        f"else nc -z -w {ct} {shlex.quote(host)} {port} >/dev/null 2>&1; fi "
        "&& echo open || echo closed )"
    )


def port_fact(host: str, port: int, connect_timeout: float) -> Fact:
    """Volatile: a port open in the up-front batch may be closed by the time we get here."""
    return Fact(
        key=f"port:{host}:{port}",
        command=port_command(host, port, connect_timeout),
        parse=lambda out, rc: out.strip() == "open",
        volatile=True,
    )


def path_fact(path: str) -> Fact:
    """The file fact, volatile: something else on the host may create or remove it."""
    return replace(file_fact(path), volatile=True)


def path_done(path: str, state: str, regex: re.Pattern[str] | None) -> Callable[[FileState], bool]:
    """The condition on the ``file:`` fact for a path and a wanted state."""

    def check(fs: FileState) -> bool:
        if state in ("absent", "stopped"):
            return not fs.exists
        if not fs.exists:
            return False
        if regex is None:
            return True
        return fs.content is not None and bool(regex.search(fs.text()))

    return check


def _num(args: Mapping[str, Any], key: str, default: float) -> float:
    value = args.get(key, default)
    return float(default if value is None else value)


class WaitForModule(Module):
    """Ansible's wait_for: host, port, path, state, search_regex, timeout, delay, sleep."""

    name: ClassVar[str] = "wait_for"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "host": {"type": "string", "minLength": 1},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "path": {"type": "string", "minLength": 1},
            "state": {"enum": ["started", "stopped", "present", "absent"]},
            "search_regex": {"type": "string"},
            "timeout": {"type": "number", "minimum": 0},
            "delay": {"type": "number", "minimum": 0},
            "sleep": {"type": "number", "exclusiveMinimum": 0},
            "connect_timeout": {"type": "number", "exclusiveMinimum": 0},
            "msg": {"type": "string"},
        },
        "additionalProperties": False,
    }

    @staticmethod
    def _check(args: Mapping[str, Any]) -> None:
        if args.get("port") is not None and args.get("path") is not None:
            raise ModuleArgError("port and path are mutually exclusive", field="path")
        state = args.get("state", "started")
        if args.get("port") is not None and state in ("present", "absent"):
            raise ModuleArgError(
                f"state={state} applies to a path; use started/stopped for a port", field="state"
            )
        if args.get("search_regex") is not None:
            if args.get("path") is None:
                raise ModuleArgError(
                    "search_regex needs path (reading a port's banner is not supported)",
                    field="search_regex",
                )
            if state in ("absent", "stopped"):
                raise ModuleArgError(
                    f"search_regex cannot be used with state={state}", field="search_regex"
                )

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        self._check(args)
        if args.get("port") is not None:
            host = str(args.get("host") or "127.0.0.1")
            return [port_fact(host, int(args["port"]), _num(args, "connect_timeout", 5))]
        if args.get("path") is not None:
            return [path_fact(str(args["path"]))]
        return []

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        self._check(args)
        state = str(args.get("state", "started"))
        timeout = _num(args, "timeout", 300)
        delay = _num(args, "delay", 0)
        sleep = _num(args, "sleep", 1)
        msg = args.get("msg")
        if args.get("port") is not None:
            host = str(args.get("host") or "127.0.0.1")
            port = int(args["port"])
            fact = port_fact(host, port, _num(args, "connect_timeout", 5))
            want_open = state in ("started", "present")
            what = f"port {port} on {host} to be {'open' if want_open else 'closed'}"
            now = facts[fact.key] == want_open

            def port_ok(out: str, rc: int) -> bool:
                return (out.strip() == "open") == want_open

            done: Callable[[str, int], bool] = port_ok
            command = fact.command
        elif args.get("path") is not None:
            path = str(args["path"])
            regex = None
            if args.get("search_regex") is not None:
                try:
                    regex = re.compile(str(args["search_regex"]), re.MULTILINE)
                except re.error as err:
                    raise ModuleArgError(
                        f"invalid search_regex: {err}", field="search_regex"
                    ) from err
            check = path_done(path, state, regex)
            gone = state in ("absent", "stopped")
            what = f"{path} to be {'absent' if gone else 'present'}" + (
                f" and match {regex.pattern!r}" if regex else ""
            )
            now = check(facts[f"file:{path}"])

            def path_ok(out: str, rc: int) -> bool:
                try:
                    return check(parse_file(path, out, rc))
                except ModuleArgError:
                    return False

            done = path_ok
            command = file_fact(path).command
        else:
            return [Change("change", f"sleep {timeout:g}s", (Sleep(timeout),))]
        if now and not delay:
            return []
        step = WaitFor(
            what=what,
            command=command,
            done=done,
            timeout=timeout,
            delay=delay,
            sleep=sleep,
            msg=msg,
        )
        return [Change("change", f"wait for {what}", (step,))]

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"elapsed": steps[-1].extra.get("elapsed", 0) if steps else 0}
        if steps and not steps[-1].ok:
            out["msg"] = steps[-1].stderr
        if args.get("path") is not None:
            out["path"] = args["path"]
        if args.get("port") is not None:
            out["port"] = args["port"]
        return out
