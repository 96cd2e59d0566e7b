"""Every controller the reconciler runs.

Adding one: a module here with a ``CONTROLLER = Controller(...)`` (see base.py), one line
in CONTROLLERS, and its case files under tests/data/reconciler/controllers/<name>/.
"""

from typing import List

from . import deployment, replicaset, scheduling
from .base import Controller

CONTROLLERS: List[Controller] = [
    scheduling.CONTROLLER,
    replicaset.CONTROLLER,
    replicaset.RC_CONTROLLER,
    deployment.CONTROLLER,
]


def watched_prefixes(controllers: List[Controller]) -> List[str]:
    """The prefixes the informers must keep, each once, in a stable order."""
    out: List[str] = []
    for c in controllers:
        for prefix in (c.primary, *c.watches):
            if prefix not in out:
                out.append(prefix)
    return out
