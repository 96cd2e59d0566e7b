"""reboot: restart a host and wait until it is back, proven by a new boot id.

The ``Reboot`` step is shared with the kernel module (a new kernel only runs after a
reboot). Waiting for SSH to "come back" is not proof of a reboot — the old sshd may still
answer for a second — so the step compares ``/proc/sys/kernel/random/boot_id`` before and
after, and keeps reconnecting until it changes or the timeout passes.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kubeform.modules.base import Change, Fact, Module, Step, StepContext, StepResult
from kubeform.transport.base import Connection, TransportError

BOOT_ID = "cat /proc/sys/kernel/random/boot_id"
DEFAULT_TIMEOUT = 600
# Errors that mean "the host is (still) away" while it reboots.
_AWAY = (TransportError, OSError, EOFError, TimeoutError)


def reboot_command(delay: int, msg: str) -> str:
    """The detached command that reboots after ``delay`` s, so the SSH call returns first."""
    inner = (
        f"sleep {max(delay, 1)}; shutdown -r now {shlex.quote(msg)} || systemctl reboot || reboot"
    )
    return f"nohup sh -c {shlex.quote(inner)} </dev/null >/dev/null 2>&1 &"


@dataclass(frozen=True)
class Reboot(Step):
    """Reboot the host, wait for a new boot id, then for ``test_command`` to succeed."""

    reboot_timeout: float = DEFAULT_TIMEOUT
    pre_reboot_delay: int = 0
    post_reboot_delay: int = 0
    test_command: str = "whoami"
    msg: str = "Reboot initiated by kubeform"
    poll_interval: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    def describe(self) -> str:
        return f"reboot (wait up to {int(self.reboot_timeout)}s for a new boot id)"

    def _run(self, ctx: StepContext, conn: Connection, command: str) -> StepResult:
        res = conn.run(command, become=ctx.become, become_user=ctx.become_user)
        return StepResult(rc=res.rc, stdout=res.stdout, stderr=res.stderr)

    def execute(self, ctx: StepContext) -> StepResult:
        start = self.clock()
        deadline = start + self.reboot_timeout
        before = self._run(ctx, ctx.conn, BOOT_ID)
        old_id = before.stdout.strip()
        if not before.ok or not old_id:
            return StepResult(rc=1, stderr=f"cannot read the boot id: {before.stderr.strip()}")
        try:
            self._run(ctx, ctx.conn, reboot_command(self.pre_reboot_delay, self.msg))
        except _AWAY:
            pass  # the connection may drop as the host goes down; that is the point
        conn: Connection | None = None
        last_error = ""
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            try:
                conn = ctx.reconnect(remaining)
                now = self._run(ctx, conn, BOOT_ID)
            except _AWAY as err:
                last_error = str(err) or type(err).__name__
                self.sleep(self.poll_interval)
                continue
            new_id = now.stdout.strip()
            if now.ok and new_id and new_id != old_id:
                return self._after_boot(ctx, conn, deadline, start)
            last_error = "the host answered with the same boot id (it has not rebooted yet)"
            self.sleep(self.poll_interval)
        return StepResult(
            rc=1,
            stderr=(
                f"the host did not come back with a new boot id within "
                f"{int(self.reboot_timeout)}s (reboot_timeout): {last_error}"
            ),
        )

    def _after_boot(
        self, ctx: StepContext, conn: Connection, deadline: float, start: float
    ) -> StepResult:
        """Post-reboot delay, then ``test_command`` until it succeeds or time runs out."""
        if self.post_reboot_delay:
            self.sleep(self.post_reboot_delay)
        while True:
            try:
                res = self._run(ctx, conn, self.test_command)
            except _AWAY as err:
                res = StepResult(rc=1, stderr=str(err))
            if res.ok:
                elapsed = int(self.clock() - start)
                return StepResult(extra={"rebooted": True, "elapsed": elapsed})
            if self.clock() >= deadline:
                return StepResult(
                    rc=1,
                    stdout=res.stdout,
                    stderr=f"test_command {self.test_command!r} failed after the reboot: "
                    f"{res.stderr.strip()}",
                )
            self.sleep(self.poll_interval)
            try:
                conn = ctx.reconnect(max(deadline - self.clock(), 1.0))
            except _AWAY:
                continue


class RebootModule(Module):
    """Ansible's ``reboot``: always a change; the step proves the host rebooted."""

    name: ClassVar[str] = "reboot"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "reboot_timeout": {"type": "integer", "minimum": 1},
            "pre_reboot_delay": {"type": "integer", "minimum": 0},
            "post_reboot_delay": {"type": "integer", "minimum": 0},
            "test_command": {"type": "string", "minLength": 1},
            "msg": {"type": "string"},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return []

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        step = Reboot(
            reboot_timeout=float(args.get("reboot_timeout", DEFAULT_TIMEOUT)),
            pre_reboot_delay=int(args.get("pre_reboot_delay", 0)),
            post_reboot_delay=int(args.get("post_reboot_delay", 0)),
            test_command=str(args.get("test_command", "whoami")),
            msg=str(args.get("msg", "Reboot initiated by kubeform")),
        )
        return [Change("change", "reboot the host", (step,))]

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        last = steps[-1] if steps else StepResult()
        return {
            "rebooted": bool(last.extra.get("rebooted")),
            "elapsed": last.extra.get("elapsed", 0),
        }
