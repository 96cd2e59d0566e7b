"""What a controller asks for: plain values the writer turns into etcd transactions.

Why values: a controller's ``sync`` stays pure (tested with data files, state in, actions
out) and the single writer owns every side effect: the transaction, its guards (the
object's mod_revision and the leader key), the event lease, the event's name and time.
"""

from typing import Any, Dict, List, NamedTuple, Optional, Union

Obj = Dict[str, Any]

#: expect_mod_revision of a Put that creates: the key must not exist yet.
CREATE = 0


class Put(NamedTuple):
    """Write ``obj`` at ``key`` if the key is still at ``expect_mod_revision`` (0 = absent).

    ``metadata.resourceVersion`` is dropped on write (it is etcd's mod_revision, never stored).
    """

    key: str
    obj: Obj
    expect_mod_revision: int


class Create(NamedTuple):
    """Create ``obj`` under ``prefix`` (e.g. ``/registry/pods/``) as the apiserver would.

    The writer names it when it has only ``metadata.generateName`` (that plus five random
    characters of Kubernetes' alphabet), stamps ``metadata.uid`` and ``creationTimestamp``
    (a sync stays pure: no uuid or clock inside), and stores it under
    ``prefix + namespace/name`` (``prefix + name`` without a namespace) only if that key is
    still absent, so a decision made twice never creates twice under a fixed name.
    """

    prefix: str
    obj: Obj


class Delete(NamedTuple):
    """Delete ``key`` if it is still at ``expect_mod_revision``."""

    key: str
    expect_mod_revision: int


class CreateEvent(NamedTuple):
    """Record a v1 Event about ``involved`` (a stored object: kind, apiVersion, metadata).

    The writer names it (``<object>.<unique hex>``), stamps the time, binds it to the shared
    event lease (kubeform.api.events.EVENT_TTL) and writes it in the same transaction as the
    sync's other actions, so an event never claims what did not happen.
    """

    involved: Obj
    reason: str
    message: str
    event_type: str = "Normal"  # Normal | Warning
    component: str = "kubeform-reconciler"
    field_path: str = ""


class Requeue(NamedTuple):
    """Sync this key again after ``after`` seconds (nothing is written).

    Why: some decisions depend on time, not on a change anyone will make (a CronJob's next
    run, a Job's activeDeadlineSeconds or ttlSecondsAfterFinished, minReadySeconds). The
    sync stays pure and says when it wants to look again; the daemon queues the key after
    the sync's writes succeeded (on a conflict the key comes back sooner anyway). The
    periodic resync remains the safety net; this only makes time-driven decisions punctual.
    """

    after: float


class Unchanged(NamedTuple):
    """Write nothing, but the transaction holds only if ``key`` is still at
    ``expect_mod_revision`` (0 = still absent).

    Why: a decision that rests on another object's absence (the garbage collector deleting
    a dependent whose owner is gone, pod GC deleting pods of a deleted node) must not act
    on an informer that lags behind etcd; etcd itself checks the absence at commit time,
    and a lost race requeues the key like any other conflict.
    """

    key: str
    expect_mod_revision: int


Action = Union[Put, Create, Delete, CreateEvent, Requeue, Unchanged]


def requeue_after(actions: List[Action]) -> Optional[float]:
    """The earliest requeue the actions ask for (seconds), None when they ask for none."""
    delays = [a.after for a in actions if isinstance(a, Requeue)]
    return max(0.0, min(delays)) if delays else None


def writes(actions: List[Action]) -> List[Action]:
    """The actions the writer performs (all but Requeue)."""
    return [a for a in actions if not isinstance(a, Requeue)]
