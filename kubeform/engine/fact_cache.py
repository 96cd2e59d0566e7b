"""One host's facts, cached per (fact, become, user) and fetched in batches.

A task asks for the facts its module needs; whatever is missing is fetched in one round
trip per become setting, together with every still-missing fact the later tasks will
need (noted up front by pre-rendering them: ``candidates``). After a change the host
may differ, so the cache is emptied (``stale``) and refilled, again batched, when the
next task asks. Volatile facts (a port that may close again) are never fetched ahead or
reused. A parser's surprise is kept as a ``ParseFailure`` and only fails the task that
reads that fact.

What to fetch and how to read the answers are pure functions (``to_fetch``,
``read_outputs``); the cache runs the batch script through the function it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kubeform.engine.facts_batch import (
    BatchError,
    batch_script,
    new_nonce,
    parse_batch,
    split_batches,
)
from kubeform.engine.outcomes import TaskFailure
from kubeform.modules.base import Fact
from kubeform.transport.base import CommandResult, TransportError

Wanted = tuple[Fact, bool, str]
"""A fact with the become setting it runs under: (fact, become, become_user)."""

CacheKey = tuple[str, bool, str]

RunScript = Callable[[str, bool, str], CommandResult]
"""``(script, become, become_user) -> result``: the host's connection, at the edge."""


class ParseFailure:
    """A fact whose parser raised: fails only the task that reads it."""

    def __init__(self, message: str) -> None:
        self.message = message


def to_fetch(wanted: Iterable[Wanted], cache: Mapping[CacheKey, Any]) -> dict[tuple[bool, str], list[Fact]]:
    """The facts to fetch, one list per become setting: uncached (or volatile), each key once."""
    groups: dict[tuple[bool, str], dict[str, Fact]] = {}
    for fact, become, user in wanted:
        if not fact.volatile and (fact.key, become, user) in cache:
            continue
        groups.setdefault((become, user), {}).setdefault(fact.key, fact)
    return {k: list(v.values()) for k, v in groups.items()}


def read_outputs(facts: Sequence[Fact], outputs: Sequence[tuple[str, int]]) -> list[Any]:
    """Each fact's parsed value (a ``ParseFailure`` where its parser raised)."""
    values: list[Any] = []
    for fact, (stdout, rc) in zip(facts, outputs, strict=True):
        try:
            values.append(fact.parse(stdout, rc))
        except Exception as err:  # a probe's surprise must only fail the task using it
            values.append(ParseFailure(f"cannot parse fact {fact.key}: {type(err).__name__}: {err}"))
    return values


def system_fact_layer(value: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ansible_*`` variables of the system facts, plus ``ansible_facts`` without prefix."""
    layer = dict(value)
    layer["ansible_facts"] = {k[len("ansible_"):]: v for k, v in value.items() if k.startswith("ansible_")}
    return layer


class FactCache:
    """The facts of one host for one play run (used by its one worker thread)."""

    def __init__(self, run_script: RunScript) -> None:
        self._run_script = run_script
        self.values: dict[CacheKey, Any] = {}
        self.candidates: dict[int, list[Wanted]] = {}  # task seq -> facts it will need

    def gather(self, wanted: Iterable[Wanted]) -> None:
        """Fetch every wanted fact not yet cached (volatile: always), one round trip per become setting."""
        for (become, user), every in to_fetch(wanted, self.values).items():
            nonce = new_nonce()
            for facts in split_batches(every, nonce):  # one round trip each, within sshd's limit
                res = self._run_script(batch_script(facts, nonce), become, user)
                try:
                    outputs = parse_batch(res.stdout, len(facts), nonce)
                except BatchError as err:
                    detail = (res.stderr or "").strip().splitlines()
                    raise TransportError(f"{err}: {detail[-1] if detail else 'no output'}") from None
                for fact, value in zip(facts, read_outputs(facts, outputs), strict=True):
                    self.values[(fact.key, become, user)] = value

    def facts_for(self, facts: Sequence[Fact], become: bool, user: str, current_seq: int) -> dict[str, Any]:
        """The values of a task's facts; a miss also fetches what the tasks after ``current_seq`` need."""
        keyed = [(f, become or f.become, user) for f in facts]
        missing = [k for k in keyed if k[0].volatile or (k[0].key, k[1], k[2]) not in self.values]
        if missing:
            later = [c for seq, cs in self.candidates.items() if seq > current_seq for c in cs]
            self.gather([*missing, *later])
        out: dict[str, Any] = {}
        for fact, b, u in keyed:
            value = self.values[(fact.key, b, u)]
            if isinstance(value, ParseFailure):
                raise TaskFailure(value.message)
            out[fact.key] = value
        return out

    def fetch_once(self, fact: Fact) -> Any:
        """One fact fetched now and not kept (the system facts live in a variable layer)."""
        self.gather([(fact, False, "root")])
        value = self.values.pop((fact.key, False, "root"))
        if isinstance(value, ParseFailure):
            raise TaskFailure(value.message)
        return value

    def stale(self) -> None:
        """The host changed: every cached fact may be out of date."""
        self.values.clear()
