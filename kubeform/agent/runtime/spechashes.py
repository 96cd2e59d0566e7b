"""Which container spec each running container was started from, per pod, kept on disk.

Why: a container whose spec changed in the pod must be restarted (the kubelet compares a
hash of the container's spec), and the agent must still know the hash after kill -9 or a
reboot, so the table is written beside the pod's state (container id -> spec hash).
"""

from typing import Any, Dict, List

from .podtables import PodTables


def _parse(loaded: Any) -> Dict[str, str]:
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


class SpecHashes(PodTables[Dict[str, str]]):
    """container id -> spec hash for every pod of this node, cached in memory."""

    def __init__(self, state_dir: str) -> None:
        super(SpecHashes, self).__init__(state_dir, "container-hashes.json", _parse, "container hashes")

    def of(self, uid: str) -> Dict[str, str]:
        """The pod's table (read from disk the first time: a restarted agent still knows it)."""
        return dict(self.table(uid))

    def remember(self, uid: str, container_id: str, digest: str, live: List[str]) -> None:
        """Record a started container's hash; entries of containers not in ``live`` go."""
        with self.lock:
            table = {k: v for k, v in self.table(uid).items() if k in live}
            table[container_id] = digest
            self.write(uid, table)
