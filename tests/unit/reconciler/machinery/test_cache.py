"""The cache's sorted key index agrees with its items through any mix of writes."""

from __future__ import annotations

import random

from kubeform.reconciler.machinery.cache import Cache, Item


def test_prefix_lists_match_a_scan_after_random_changes() -> None:
    rng = random.Random(7)
    cache = Cache([Item("/registry/pods/a/x", {}, 1)])
    revision = 1
    keys = [f"/registry/{r}/{ns}/{n}" for r in ("pods", "pods2", "replicasets") for ns in ("a", "ab", "b") for n in "xyz"]
    for _ in range(3000):
        revision += 1
        key = rng.choice(keys)
        roll = rng.random()
        if roll < 0.5:
            cache.write_through(key, {"n": revision}, revision)
        elif roll < 0.8:
            cache.write_through(key, None, revision)
        elif roll < 0.9:
            cache.apply("PUT", key, '{"n": 1}', revision)
        else:
            prefix = "/registry/" + rng.choice(["pods/", "pods2/", "replicasets/"])
            fresh = [Item(k, {}, revision) for k in keys if k.startswith(prefix) and rng.random() < 0.5]
            cache.replace(prefix, fresh, revision)
        for prefix in ("/registry/pods/", "/registry/pods/a", "/registry/pods/a/", "/registry/", "/registry/replicasets/b/", ""):
            scan = sorted(k for k in cache._items if k.startswith(prefix))
            assert cache.keys(prefix) == scan
            assert [i.key for i in cache.list(prefix)] == scan
