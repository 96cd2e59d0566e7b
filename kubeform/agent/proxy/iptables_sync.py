"""What one sync writes: the iptables-restore input that turns the applied rules into the desired ones.

Why a pure diff: `iptables-restore --noflush` only touches the chains named in its input
(a ``:CHAIN - [0:0]`` line flushes that chain, the ``-A`` lines refill it, ``-X`` deletes
it), so writing only the chains whose rules changed is what makes a one-endpoint change
at 10,000 Services cost a few lines instead of the whole table. The proxier remembers
what it last applied, chain by chain; this module decides, from that and the desired
RuleSet, which chains to write and which stale per-service chains to delete. A full sync
(at start, hourly, and when the repair check of iptables_repair.py finds a difference)
writes every chain and deletes every KUBE-SVC/SEP/EXT/SVL/FW chain the host has that is
not wanted, which repairs rules someone deleted by hand.

Also here: the jump rules from the built-in chains (PREROUTING, OUTPUT, POSTROUTING,
INPUT, FORWARD) into kube-proxy's chains, as kube-proxy installs them, which of them an
`iptables-save` text lacks, and the ``-I`` lines that insert those in the same restore.
"""

from collections import OrderedDict
from typing import Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

from . import chains as ch
from .iptables_rules import ProxyContext, RuleSet, ServiceRules, shared_chains

Jump = NamedTuple("Jump", [("table", str), ("src", str), ("dst", str), ("comment", str), ("extra", List[str])])

NEW = ["-m", "conntrack", "--ctstate", "NEW"]

# kube-proxy's iptablesJumpChains (1.28), in its order; each is inserted at the top of src.
JUMPS = [
    Jump("filter", "INPUT", ch.EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW),
    Jump("filter", "FORWARD", ch.EXTERNAL_SERVICES, "kubernetes externally-visible service portals", NEW),
    Jump("filter", "INPUT", ch.NODEPORTS, "kubernetes health check service ports", []),
    Jump("filter", "FORWARD", ch.SERVICES, "kubernetes service portals", NEW),
    Jump("filter", "OUTPUT", ch.SERVICES, "kubernetes service portals", NEW),
    Jump("filter", "FORWARD", ch.FORWARD, "kubernetes forwarding rules", []),
    Jump("filter", "INPUT", ch.PROXY_FIREWALL, "kubernetes load balancer firewall", NEW),
    Jump("filter", "OUTPUT", ch.PROXY_FIREWALL, "kubernetes load balancer firewall", NEW),
    Jump("filter", "FORWARD", ch.PROXY_FIREWALL, "kubernetes load balancer firewall", NEW),
    Jump("nat", "OUTPUT", ch.SERVICES, "kubernetes service portals", []),
    Jump("nat", "PREROUTING", ch.SERVICES, "kubernetes service portals", []),
    Jump("nat", "POSTROUTING", ch.POSTROUTING, "kubernetes postrouting rules", []),
]

TABLES = ("filter", "nat")


def chain_line(chain: str) -> str:
    return ":%s - [0:0]" % chain


def restore_text(
    desired: RuleSet,
    applied: Optional[RuleSet] = None,
    existing: Optional[Dict[str, Set[str]]] = None,
    jumps: Optional[List[Jump]] = None,
    batch: int = 0,
) -> str:
    """The restore input as one string: "".join(restore_chunks(...)) (see there)."""
    return "".join(restore_chunks(desired, applied, existing, jumps, batch))


def restore_chunks(
    desired: RuleSet,
    applied: Optional[RuleSet] = None,
    existing: Optional[Dict[str, Set[str]]] = None,
    jumps: Optional[List[Jump]] = None,
    batch: int = 0,
) -> Iterator[str]:
    """The restore input, in pieces of at most CHUNK_CHAINS chains' rules: every chain of
    desired that differs from applied (all of them when applied is None: a full sync), the
    jump rules in jumps (``-I``: the ones the host lacks), and -X for stale per-service
    chains: those applied had and desired has not, plus, on a full sync, those in existing
    (the host's chains, from iptables-save) that desired has not. Nothing when nothing
    changes.

    Why pieces: the proxier writes them to iptables-restore's stdin as they are joined, so
    iptables-restore parses the first chains while the rest of a 12 MB full-sync input is
    still being put together, and no second copy of the whole text is made.

    Why the declarations come in descending name order: legacy iptables-restore (libiptc)
    keeps a table's chains in a sorted list and walks it from an index to insert each new
    one; a name smaller than every chain so far goes straight to the head, so 41,000 chains
    are declared in 0.2 s instead of 0.7 s. The rules keep kube-proxy's order.

    batch > 0 (iptables-nft) cuts each table into several transactions (``*table ...
    COMMIT`` blocks, one restore input) of at most batch chains, in dependency order:
    KUBE-SEP before the KUBE-SVC/SVL that jump to them, those before KUBE-EXT, then
    KUBE-NODEPORTS and KUBE-SERVICES, the jump rules, and the stale chains last (all
    flushed, then deleted: they may jump to each other). Why:
    iptables-nft-restore's time grows with the square of the chains one transaction names
    (10,000 Services: 230 s in one, 3 s in blocks of 500). Each chain still changes
    atomically; a Service's rules are complete before anything jumps to them."""
    for table in TABLES:
        empty = OrderedDict()  # type: OrderedDict[str, str]
        want = desired.get(table) or empty
        had = (applied or {}).get(table) or empty
        if applied is None:
            write = list(want)
        else:
            # a cached Service's rules are the same string object: `is` first, then ==
            write = [c for c, rules in want.items() if had.get(c) is not rules and had.get(c) != rules]
        stale = set(c for c in had if c not in want and ch.is_service_chain(c))
        if applied is None and existing is not None:
            stale |= set(c for c in existing.get(table, set()) if c not in want and ch.is_service_chain(c))
        inserts = ["-I %s %s\n" % (j.src, " ".join(_quote(a) for a in jump_args(j))) for j in jumps or [] if j.table == table]
        if not write and not stale and not inserts:
            continue
        gone = sorted(stale)
        if batch > 0 and len(write) + len(gone) > batch:
            for block in _batches(table, want, write, gone, inserts, batch):
                yield block
            continue
        for piece in _block(table, want, write, gone, inserts):
            yield piece


# chains whose rules one piece of restore_chunks holds (~300 KB at 10,000 Services)
CHUNK_CHAINS = 4096


def _block(table: str, want: "OrderedDict[str, str]", write: List[str], gone: List[str], inserts: List[str], delete: bool = True) -> Iterator[str]:
    """One transaction: declare (flush) every chain named, fill, insert jumps, delete gone
    (only flush it when delete is False)."""
    yield "".join(["*%s\n" % table] + [":%s - [0:0]\n" % c for c in sorted(write + gone, reverse=True)])
    for i in range(0, len(write), CHUNK_CHAINS):
        yield "".join([want[c] for c in write[i : i + CHUNK_CHAINS]])
    yield "".join(inserts + (["-X %s\n" % c for c in gone] if delete else []) + ["COMMIT\n"])


# which chains a chain's rules may jump to come first (see restore_text's batch)
_RANK_PREFIX = ((ch.SEP_PREFIX, 1), (ch.SVC_PREFIX, 2), (ch.SVL_PREFIX, 2), (ch.EXT_PREFIX, 3), (ch.FW_PREFIX, 4))
_RANK_NAME = {ch.NODEPORTS: 5, ch.SERVICES: 6, ch.EXTERNAL_SERVICES: 6}


def _rank(chain: str) -> int:
    for prefix, rank in _RANK_PREFIX:
        if chain.startswith(prefix):
            return rank
    return _RANK_NAME.get(chain, 0)  # KUBE-MARK-MASQ, KUBE-POSTROUTING, KUBE-FORWARD: builtin targets only


def _batches(table: str, want: "OrderedDict[str, str]", write: List[str], gone: List[str], inserts: List[str], batch: int) -> List[str]:
    ordered = sorted(write, key=_rank)  # stable: kube-proxy's order within a rank
    out = ["".join(_block(table, want, ordered[i : i + batch], [], [])) for i in range(0, len(ordered), batch)]
    if inserts:
        out.append("".join(_block(table, want, [], [], inserts)))
    # stale chains may jump to each other (a KUBE-SVC to its KUBE-SEPs): all are flushed
    # before any is deleted, or the kernel refuses to delete a chain still jumped to
    out.extend("".join(_block(table, want, [], gone[i : i + batch], [], delete=False)) for i in range(0, len(gone), batch))
    out.extend("*%s\n%sCOMMIT\n" % (table, "".join("-X %s\n" % c for c in gone[i : i + batch])) for i in range(0, len(gone), batch))
    return out


def _quote(arg: str) -> str:
    """An argument as iptables-restore reads it (double quotes group words)."""
    return '"%s"' % arg if " " in arg else arg


def partial_restore_text(
    desired: Dict[str, ServiceRules],
    order: List[str],
    applied: Dict[str, ServiceRules],
    applied_shared: RuleSet,
    ctx: ProxyContext,
    batch: int = 0,
) -> Tuple[str, RuleSet]:
    """The restore input of a partial sync computed from the changed Services only, and
    the fixed chains it leaves applied. desired and applied map a service-map key to its
    rendered rules (the proxier's cache: an unchanged Service's rules are the same
    object, so finding the changed ones is one identity check per Service); order is
    desired's keys in rule order. Equal to restore_text(assemble(desired), assemble(applied))
    but without joining or comparing the 70,000 chains of 10,000 unchanged Services."""
    changed = [k for k in order if applied.get(k) is not desired[k]]
    removed = [k for k in applied if k not in desired]
    if not changed and not removed:
        return "", applied_shared
    shared = shared_chains([desired[k] for k in order], ctx)
    want = {"filter": shared["filter"], "nat": OrderedDict(shared["nat"])}  # type: RuleSet
    had = {"filter": applied_shared["filter"], "nat": OrderedDict(applied_shared["nat"])}  # type: RuleSet
    for key in changed:
        if key in applied:
            had["nat"].update(applied[key].nat_chains)
        want["nat"].update(desired[key].nat_chains)
    for key in removed:
        had["nat"].update(applied[key].nat_chains)
    return restore_text(want, had, batch=batch), shared


def changed_chains(text: str) -> int:
    """How many chains a restore input writes or deletes (for logs and the bench)."""
    return text.count("\n:") + (1 if text.startswith(":") else 0)


def parse_chains(save_text: str) -> Set[str]:
    """The chain names an `iptables-save -t TABLE` text declares."""
    return set(line[1:].split(" ", 1)[0] for line in save_text.splitlines() if line.startswith(":"))


def jump_args(jump: Jump) -> List[str]:
    args = list(jump.extra)
    if jump.comment:
        args += ["-m", "comment", "--comment", jump.comment]
    return args + ["-j", jump.dst]


def _has_jump(save_lines: List[str], jump: Jump) -> bool:
    head = "-A %s " % jump.src
    tail = "-j %s" % jump.dst
    comment = '"%s"' % jump.comment
    return any(line.startswith(head) and line.rstrip().endswith(tail) and comment in line for line in save_lines)


def absent_jumps(save_text: Dict[str, str], jumps: Optional[List[Jump]] = None) -> List[Jump]:
    """The jump rules (JUMPS unless given) the saved tables (table -> save text) lack."""
    lines = dict((t, save_text.get(t, "").splitlines()) for t in TABLES)
    return [j for j in (JUMPS if jumps is None else jumps) if not _has_jump(lines.get(j.table, []), j)]


def missing_jumps(save_text: Dict[str, str], jumps: Optional[List[Jump]] = None) -> List[List[str]]:
    """`iptables` argv inserting each jump rule the saved tables lack (table -> save text)."""
    return [["-t", j.table, "-I", j.src] + jump_args(j) for j in absent_jumps(save_text, jumps)]


def cleanup_text(save_text: Dict[str, str]) -> List[List[str]]:
    """What `down` runs: delete every jump into a KUBE- chain from a built-in chain
    (iptables argv), for each table in save_text."""
    out = []  # type: List[List[str]]
    for table, text in sorted(save_text.items()):
        for line in text.splitlines():
            words = line.split()
            if len(words) > 2 and words[0] == "-A" and not words[1].startswith("KUBE-") and words[-2] == "-j" and words[-1].startswith("KUBE-"):
                out.append(["-t", table, "-D"] + _split_save_line(line)[1:])
    return out


def cleanup_restore(save_text: Dict[str, str]) -> str:
    """The restore input that flushes and deletes every KUBE- chain of each saved table."""
    out = []  # type: List[str]
    for table, text in sorted(save_text.items()):
        kube = sorted(c for c in parse_chains(text) if c.startswith("KUBE-"))
        if not kube:
            continue
        out.append("*" + table)
        out.extend(chain_line(c) for c in kube)
        out.extend("-X " + c for c in kube)
        out.append("COMMIT")
    return "\n".join(out) + "\n" if out else ""


def _split_save_line(line: str) -> List[str]:
    """An iptables-save rule line as argv (double quotes group words, as iptables-restore reads them)."""
    words = []  # type: List[str]
    cur = []  # type: List[str]
    quoted = False
    started = False
    for c in line:
        if c == '"':
            quoted = not quoted
            started = True
        elif c == " " and not quoted:
            if started:
                words.append("".join(cur))
                cur, started = [], False
        else:
            cur.append(c)
            started = True
    if started:
        words.append("".join(cur))
    return words
