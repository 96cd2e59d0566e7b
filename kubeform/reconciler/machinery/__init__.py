"""The controller machinery: informer caches, the work queue, actions and the one writer.

Controllers never talk to etcd: informers fill caches from list + watch, workers call a
controller's pure ``sync(key, view, now)`` and hand the actions it returns to the writer,
which performs them as etcd transactions guarded by the leader key.
"""
