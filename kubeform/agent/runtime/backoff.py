"""Crash-loop and image-pull back-off: 10 s doubling to 5 min, forgotten after 10 min of calm.

Why its own module: both the lifecycle (may this container start again yet?) and the status
(CrashLoopBackOff / ImagePullBackOff with "back-off 40s ...") read the same numbers. Pure:
the caller keeps the entries (in memory, as the kubelet does: an agent restart starts the
back-off over) and passes ``now`` as seconds since the epoch.
"""

from typing import NamedTuple

INITIAL = 10.0
MAXIMUM = 300.0
#: A container that ran this long before it exited starts its back-off over (kubelet: 2 x max).
RESET_AFTER = 600.0


class Backoff(NamedTuple):
    """One key's back-off: how many failures in a row, when the last one happened, and
    which container attempt it was counted for (so one exit is never counted twice)."""

    failures: int = 0
    last_failure: float = 0.0
    attempt: int = -1


def delay(count: int) -> float:
    """The wait after ``count`` failures in a row: 0, 10, 20, 40, ... capped at 300 s."""
    if count <= 0:
        return 0.0
    return float(min(INITIAL * float(2 ** min(count - 1, 16)), MAXIMUM))


def record_exit(entry: Backoff, attempt: int, started: float, finished: float) -> Backoff:
    """Count the exit of container ``attempt`` (once); a long run resets the count first."""
    if attempt <= entry.attempt:
        return entry
    count = entry.failures
    if started and finished - started >= RESET_AFTER:
        count = 0
    return Backoff(count + 1, finished, attempt)


def record_failure(entry: Backoff, now: float) -> Backoff:
    """One more failure of something without attempts (an image pull)."""
    count = entry.failures
    if entry.last_failure and now - entry.last_failure >= RESET_AFTER + delay(count):
        count = 0
    return Backoff(count + 1, now, entry.attempt)


def ready_at(entry: Backoff) -> float:
    """When the next try may happen (seconds since the epoch)."""
    return entry.last_failure + delay(entry.failures)


def waiting(entry: Backoff, now: float) -> bool:
    """True while the back-off of ``entry`` has not run out."""
    return entry.failures > 0 and now < ready_at(entry)
