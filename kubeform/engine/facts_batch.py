"""Many fact probes in one round trip: one shell script, delimited sections, one parse.

Planning a task needs facts from the host; asking for each with its own SSH command
costs a round trip apiece, which is what makes idempotent runs of Ansible slow. Here the
commands of every fact a host needs are joined into one script that prints, for each, a
begin marker, the command's stdout and an end marker carrying its exit code. Each
command runs in its own ``sh -c`` (stdin from /dev/null, stderr dropped) so one broken
probe cannot break the others. The markers carry a random nonce so a file that happens
to contain marker-like text cannot confuse the parser.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Sequence

from kubeform.modules.base import Fact


class BatchError(Exception):
    """The batch output lacked a section: the script was cut short (a transport problem)."""


def new_nonce() -> str:
    return secrets.token_hex(6)


def batch_script(facts: Sequence[Fact], nonce: str) -> str:
    """The shell script that runs every fact command and delimits the outputs."""
    lines = []
    for i, fact in enumerate(facts):
        lines.append(f"printf '%s\\n' '@@KF{nonce}B{i}@@'")
        lines.append(f"sh -c {shlex.quote(fact.command)} </dev/null 2>/dev/null")
        lines.append(f"printf '\\n@@KF{nonce}E{i}:%d@@\\n' $?")
    return "\n".join(lines) + "\n"


#: The most script one round trip carries. sshd runs a command as one argument of the
#: login shell (``bash -c SCRIPT``) and Linux refuses an argument over 128 KiB
#: (MAX_ARG_STRLEN: "Argument list too long"); become quotes the script again, which can
#: grow it a few times over. A host with many files to check needs several round trips.
MAX_SCRIPT = 32 * 1024


def split_batches(facts: Sequence[Fact], nonce: str, limit: int = MAX_SCRIPT) -> list[list[Fact]]:
    """The facts in order, cut into runs whose script stays within ``limit`` characters
    (a single fact longer than that goes alone)."""
    out: list[list[Fact]] = []
    size = 0
    for fact in facts:
        one = len(batch_script([fact], nonce))
        if out and size + one <= limit:
            out[-1].append(fact)
            size += one
        else:
            out.append([fact])
            size = one
    return out


def parse_batch(output: str, count: int, nonce: str) -> list[tuple[str, int]]:
    """(stdout, rc) of each fact in script order; raises BatchError when one is missing."""
    found: list[tuple[str, int]] = []
    pattern = re.compile(
        rf"@@KF{nonce}B(\d+)@@\n(.*?)\n@@KF{nonce}E\1:(-?\d+)@@\n?", re.S
    )
    by_index: dict[int, tuple[str, int]] = {}
    for m in pattern.finditer(output):
        by_index[int(m.group(1))] = (m.group(2), int(m.group(3)))
    for i in range(count):
        if i not in by_index:
            raise BatchError(f"fact batch output is missing section {i} of {count}")
        found.append(by_index[i])
    return found
