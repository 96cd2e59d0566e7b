"""Which lifecycle hooks of which container have run, per pod, kept on disk.

Why: a hook must run at most once per container, as the kubelet runs it, also when the
agent is killed (kill -9, a reboot of the agent alone) in the middle: the record is
written before the hook starts and read back by a restarted agent. postStart goes
``pending`` (the container started, its hook not yet begun: a restarted agent runs it),
``begun`` (never again, whatever happened), ``done``; preStop goes ``begun`` once.
"""

from typing import Any, Dict, Iterable

from .podtables import PodTables

PENDING = "pending"
BEGUN = "begun"
DONE = "done"

#: container id -> hook (postStart, preStop) -> state
Table = Dict[str, Dict[str, str]]


def _parse(loaded: Any) -> Table:
    known = {}  # type: Table
    if isinstance(loaded, dict):
        for cid, hooks in loaded.items():
            if isinstance(hooks, dict):
                known[str(cid)] = {str(k): str(v) for k, v in hooks.items()}
    return known


class HookRecords(PodTables[Table]):
    """The hook states of every pod of this node, cached in memory, written through."""

    def __init__(self, state_dir: str) -> None:
        super(HookRecords, self).__init__(state_dir, "container-hooks.json", _parse, "lifecycle hooks")

    def of(self, uid: str) -> Table:
        """The pod's table (read from disk the first time: a restarted agent still knows it)."""
        return {cid: dict(hooks) for cid, hooks in self.table(uid).items()}

    def state(self, uid: str, container_id: str, hook: str) -> str:
        return self.of(uid).get(container_id, {}).get(hook, "")

    def mark(self, uid: str, container_id: str, hook: str, state: str, live: Iterable[str] = ()) -> None:
        """Record a hook's state (on disk before returning); containers neither ``live``
        nor this one are dropped from the table."""
        keep = set(live) | {container_id}
        with self.lock:
            table = {cid: dict(hooks) for cid, hooks in self.table(uid).items() if cid in keep}
            table.setdefault(container_id, {})[hook] = state
            self.write(uid, table, durable=True)
