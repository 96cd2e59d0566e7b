"""swap: turn swap off now and at boot (what a kubelet-style node agent expects), or back on.

``state: absent`` (default) runs ``swapoff -a`` when /proc/swaps lists any swap and
comments out every swap entry of /etc/fstab with a ``# kubeform: `` prefix (so the
change is visible and reversible). ``state: present`` undoes exactly those comments and
runs ``swapon -a`` when no swap is active but fstab has some. Swap that systemd or zram
set up outside fstab is turned off now but may come back at boot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, plan_content, split_lines
from kubeform.modules.base import Change, Diff, Fact, Module, Run

PREFIX = "# kubeform: "
DEFAULT_FSTAB = "/etc/fstab"


def parse_swaps(out: str, rc: int) -> list[str]:
    """Active swap devices/files from /proc/swaps (header skipped; missing file = none)."""
    if rc != 0:
        return []
    return [line.split()[0] for line in out.splitlines()[1:] if line.strip()]


def swaps_fact() -> Fact:
    return Fact(key="swaps", command="( cat /proc/swaps 2>/dev/null )", parse=parse_swaps)


def is_swap_entry(line: str) -> bool:
    """An uncommented fstab line whose filesystem type (third field) is swap."""
    body = line.strip()
    if not body or body.startswith("#"):
        return False
    fields = body.split()
    return len(fields) >= 3 and fields[2] == "swap"


def edit_fstab(text: str, present: bool) -> str:
    """fstab with swap entries commented out (absent) or kubeform's comments undone."""
    out = []
    for line in split_lines(text):
        if not present and is_swap_entry(line):
            line = PREFIX + line
        elif present and line.startswith(PREFIX) and is_swap_entry(line[len(PREFIX) :]):
            line = line[len(PREFIX) :]
        out.append(line)
    return "".join(out)


class Swap(Module):
    """kubeform's own: swap off (now and in fstab) or on again."""

    name: ClassVar[str] = "swap"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "state": {"enum": ["absent", "present"]},
            "fstab": {"type": "string", "minLength": 1},
        },
        "additionalProperties": False,
    }

    @staticmethod
    def _fstab(args: Mapping[str, Any]) -> str:
        return str(args.get("fstab") or DEFAULT_FSTAB)

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [swaps_fact(), file_fact(self._fstab(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        present = args.get("state", "absent") == "present"
        active: list[str] = facts["swaps"]
        path = self._fstab(args)
        fstab: FileState = facts[f"file:{path}"]
        changes: list[Change] = []
        new_text = edit_fstab(fstab.text(), present) if fstab.exists else ""
        if not present and active:
            listing = "".join(f"{dev}\n" for dev in active)
            changes.append(
                Change(
                    "remove",
                    f"turn off swap ({', '.join(active)})",
                    (Run("swapoff -a"),),
                    Diff(label="active swap", before=listing, after=""),
                )
            )
        if fstab.exists:
            what = "swap entries enabled" if present else "swap entries commented out"
            changes += plan_content(path, fstab, new_text.encode(), follow=True, what=what)
        if present and not active and any(is_swap_entry(line) for line in split_lines(new_text)):
            changes.append(Change("add", "turn on swap (swapon -a)", (Run("swapon -a"),)))
        return changes
