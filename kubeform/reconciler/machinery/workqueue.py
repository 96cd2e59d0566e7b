"""A queue of keys for the workers: deduplicated, one worker per key, per-key back-off.

Kubernetes' workqueue, in small: a key added while it waits is not added twice; a key
added while a worker holds it runs again after that worker is done (never two workers on
one key); a key whose sync failed comes back after an exponential delay that grows per
key and resets with ``forget``. Keys, not objects: the worker reads the current state
from the cache, so however many changes happened, one sync sees the latest (level-triggered).
The clock is injected so tests drive time by hand.
"""

import heapq
import threading
import time
from typing import Callable, Dict, List, Optional, Set, Tuple

#: First retry after a failure, then doubled per failure of the same key, up to the cap.
BASE_DELAY = 0.05
MAX_DELAY = 60.0


def backoff_delay(failures: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Delay before retry number ``failures`` (1 = first retry): base * 2**(failures-1), capped."""
    if failures <= 0:
        return 0.0
    exponent = min(failures - 1, 62)
    return float(min(cap, base * (2**exponent)))


class WorkQueue(object):
    """Keys ready to sync, keys being synced, and keys waiting out a delay."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, base_delay: float = BASE_DELAY, max_delay: float = MAX_DELAY) -> None:
        self._clock = clock
        self._base = base_delay
        self._cap = max_delay
        self._cond = threading.Condition()
        self._queue: List[str] = []
        self._dirty: Set[str] = set()
        self._processing: Set[str] = set()
        self._delayed: List[Tuple[float, int, str]] = []
        self._seq = 0
        self._failures: Dict[str, int] = {}
        self._shut = False

    # -- adding ------------------------------------------------------------------------

    def add(self, key: str) -> None:
        """Queue ``key`` unless it already waits; if a worker holds it, it runs again after."""
        with self._cond:
            self._add_locked(key)

    def _add_locked(self, key: str) -> None:
        if self._shut or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._cond.notify()

    def add_after(self, key: str, delay: float) -> None:
        """Queue ``key`` once ``delay`` seconds have passed."""
        if delay <= 0:
            self.add(key)
            return
        with self._cond:
            if self._shut:
                return
            when = self._clock() + delay
            for i, (t, _, k) in enumerate(self._delayed):
                if k == key:  # one delayed copy per key: the earliest
                    if t <= when:
                        return
                    self._delayed.pop(i)
                    heapq.heapify(self._delayed)
                    break
            self._seq += 1
            heapq.heappush(self._delayed, (when, self._seq, key))
            self._cond.notify()

    def add_rate_limited(self, key: str) -> float:
        """Requeue after a failure: the delay doubles with each failure of this key."""
        with self._cond:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
        delay = backoff_delay(failures, self._base, self._cap)
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        """The key synced fine: its next failure starts the back-off from the beginning."""
        with self._cond:
            self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    # -- taking ------------------------------------------------------------------------

    def _promote_locked(self) -> Optional[float]:
        """Move delayed keys whose time has come; seconds until the next one (None: none)."""
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, key = heapq.heappop(self._delayed)
            self._add_locked(key)
        return self._delayed[0][0] - now if self._delayed else None

    def _take_locked(self) -> Optional[str]:
        if not self._queue:
            return None
        key = self._queue.pop(0)
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def get_nowait(self) -> Optional[str]:
        """A ready key (the worker must call ``done`` with it), or None."""
        with self._cond:
            self._promote_locked()
            return None if self._shut else self._take_locked()

    def get(self, timeout: Optional[float] = None) -> Optional[str]:
        """Block until a key is ready; None after ``timeout`` seconds or on shutdown."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._shut:
                wait = self._promote_locked()
                key = self._take_locked()
                if key is not None:
                    return key
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    wait = left if wait is None else min(wait, left)
                self._cond.wait(wait)
            return None

    def done(self, key: str) -> None:
        """The worker finished ``key``; if it was added meanwhile, it is queued again now."""
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty and not self._shut:
                self._queue.append(key)
                self._cond.notify()

    # -- state -------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Wake every waiting worker with None; nothing is queued any more."""
        with self._cond:
            self._shut = True
            self._queue = []
            self._dirty.clear()
            self._delayed = []
            self._cond.notify_all()

    @property
    def shutting_down(self) -> bool:
        with self._cond:
            return self._shut

    def snapshot(self) -> Dict[str, List[str]]:
        """What is ready, held and delayed now (tests and debugging)."""
        with self._cond:
            self._promote_locked()
            return {
                "ready": list(self._queue),
                "processing": sorted(self._processing),
                "delayed": [k for _, _, k in sorted(self._delayed)],
            }

    def __len__(self) -> int:
        with self._cond:
            return len(self._queue)
