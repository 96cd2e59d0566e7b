"""Whether the kernel still holds the rules the proxier wrote: the cheap periodic check.

Why a check instead of a periodic full sync: at 10,000 Services a full sync rewrites
41,000 chains (1-3 s of iptables-restore, during which no endpoint change can be applied),
and every 30 s that is what kept partial syncs from meeting their 1 s. Rules change behind
the agent's back only when someone (an admin, a firewall reload) flushes or deletes them,
which changes a chain's rule count or removes the chain or a jump rule: one iptables-save
per table shows it. The check compares, chain by chain, how many rules the host has with
how many were written, and looks for kube-proxy's jump rules; any difference makes the next
sync a full one. A full sync still runs at start, after a failure and hourly (kube-proxy's
own full-sync period), which also catches a rule edited in place.

Pure: save texts and counts in, the differences (readable, for the log) out.
"""

from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from . import iptables_sync

Counts = Dict[str, Dict[str, int]]  # table -> chain -> rules written


def saved_counts(save_text: str) -> Dict[str, int]:
    """chain -> its rule count, for every chain an `iptables-save -t TABLE` text declares."""
    counts = {}  # type: Dict[str, int]
    for line in save_text.splitlines():
        if line.startswith(":"):
            counts.setdefault(line[1:].split(" ", 1)[0], 0)
        elif line.startswith("-A "):
            end = line.find(" ", 3)
            chain = line[3:end] if end > 0 else line[3:]
            counts[chain] = counts.get(chain, 0) + 1
    return counts


def drift(saved: Dict[str, str], written: Counts, jumps: Optional[List[iptables_sync.Jump]] = None, limit: int = 5) -> List[str]:
    """What differs between the saved tables (table -> iptables-save text) and what was
    written (table -> chain -> rule count), and which jump rules are missing; [] when
    the host holds what was written. At most limit chains are named (then a total)."""
    out = []  # type: List[str]
    wrong = 0
    for table in iptables_sync.TABLES:
        want = written.get(table) or {}
        if not want:
            continue
        have = saved_counts(saved.get(table, ""))
        for chain, n in want.items():
            got = have.get(chain)
            if got == n:
                continue
            wrong += 1
            if wrong <= limit:
                out.append("%s %s: %s" % (table, chain, "missing" if got is None else "%d rules, %d written" % (got, n)))
    if wrong > limit:
        out.append("%d chains in all" % wrong)
    for jump in iptables_sync.absent_jumps(saved, jumps):
        out.append("%s %s: no jump to %s" % (jump.table, jump.src, jump.dst))
    return out


def written_counts(tables: Iterable[Tuple[str, Mapping[str, str]]]) -> Counts:
    """table -> chain -> rule count of (table, chain -> rules) pairs, merged in order."""
    out = {}  # type: Counts
    for table, chains in tables:
        room = out.setdefault(table, {})
        for chain, rules in chains.items():
            room[chain] = rules.count("\n")
    return out
