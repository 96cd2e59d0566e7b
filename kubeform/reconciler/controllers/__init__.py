"""Every controller the reconciler runs.

Adding one: a module here with a ``CONTROLLER = Controller(...)`` (see base.py), one line
in CONTROLLERS, and its case files under tests/data/reconciler/controllers/<name>/.
"""

from typing import List

from . import (
    autoscaler,
    cronjob,
    daemonset,
    deployment,
    endpoints,
    garbagecollector,
    job,
    localvolumes,
    namespace,
    nodelifecycle,
    replicaset,
    scheduling,
    servicemap,
    statefulset,
)
from .base import Controller

CONTROLLERS: List[Controller] = [
    scheduling.CONTROLLER,
    endpoints.CONTROLLER,
    servicemap.CONTROLLER,
    replicaset.CONTROLLER,
    replicaset.RC_CONTROLLER,
    job.CONTROLLER,
    daemonset.CONTROLLER,
    nodelifecycle.CONTROLLER,
    namespace.CONTROLLER,
    *garbagecollector.CONTROLLERS,
    statefulset.CONTROLLER,
    localvolumes.CONTROLLER,
    localvolumes.RELEASE_CONTROLLER,
    autoscaler.CONTROLLER,
    cronjob.CONTROLLER,
    deployment.CONTROLLER,
]


def configured(controllers: List[Controller], pod_eviction_seconds: float) -> List[Controller]:
    """``controllers`` with the reconciler config's settings applied (the node lifecycle
    controller's default tolerationSeconds)."""
    return [nodelifecycle.controller(pod_eviction_seconds) if c.name == nodelifecycle.NAME else c for c in controllers]


def watched_prefixes(controllers: List[Controller]) -> List[str]:
    """The prefixes the informers must keep, each once, in a stable order."""
    out: List[str] = []
    for c in controllers:
        for prefix in (c.primary, *c.watches):
            if prefix not in out:
                out.append(prefix)
    return out
