"""Verbs rollout (status, history, undo, pause, resume, restart) and set image, as kubectl's.

``rollout status`` polls the Deployment, DaemonSet or StatefulSet and prints kubectl's
progress line each time it changes, until the rollout is done (exit 0), a Deployment's
progress deadline is exceeded (exit 1, ``error: deployment "web" exceeded its progress
deadline``) or ``--timeout`` passes (exit 1). history, undo and restart take the three
kinds too (a Deployment's history is its ReplicaSets, the others' their
ControllerRevisions: rollout_sets.py); pause and resume only Deployments, as kubectl.
The other verbs are one read-modify-write each, guarded by the object's mod_revision
(the store's transaction); the reconciler's controllers do the rest.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import time
from collections.abc import Callable
from typing import Any

import yaml

from kubeform.api import kinds
from kubeform.cli.objects import _common, _connect, _get_one, _ns, _split_ref
from kubeform.cli.wait import parse_timeout
from kubeform.errors import UserError
from kubeform.store import applier, rollout_sets
from kubeform.store import rollout as logic
from kubeform.store.client import ConflictError, Store

Obj = dict[str, Any]
POLL_SECONDS = 0.5
DEPLOYMENT = kinds.BY_KIND["Deployment"]
REPLICASET = kinds.BY_KIND["ReplicaSet"]
REVISION = kinds.BY_KIND["ControllerRevision"]
#: kinds status, history, undo and restart take (pause and resume: Deployments only)
ROLLOUT_KINDS = ("Deployment", *rollout_sets.KINDS)
#: kinds ``set image`` changes (a template's containers, or a Pod's)
WITH_CONTAINERS = {"Deployment", "ReplicaSet", "ReplicationController", "DaemonSet", "StatefulSet", "Job", "CronJob", "Pod"}


def _ref(args: argparse.Namespace, allowed: tuple[str, ...] = ROLLOUT_KINDS) -> tuple[kinds.Kind, str, str]:
    """(kind, namespace, name) of the one object a rollout verb acts on."""
    refs = _split_ref(args.kind, args.names)
    if len(refs) != 1 or refs[0][1] is None:
        raise UserError("give one object: KIND/NAME or KIND NAME (deployment, daemonset or statefulset)")
    kind, name = refs[0]
    if kind.kind not in allowed:
        raise UserError(f"rollout of {kind.resource} is not supported; only {', '.join(k.lower() + 's' for k in allowed)}")
    assert name is not None
    return kind, _ns(args), name


def _deployment_ref(args: argparse.Namespace) -> tuple[str, str]:
    _, namespace, name = _ref(args, ("Deployment",))
    return namespace, name


def _update(store: Store, kind: kinds.Kind, namespace: str, name: str, change: Callable[[Obj], Obj | None]) -> Obj | None:
    """Read, change, write on the read's mod_revision; again on a lost race. None when
    ``change`` says there is nothing to write."""
    for attempt in range(5):
        obj = _get_one(store, kind, namespace, name)
        new = change(obj)
        if new is None:
            return None
        try:
            return applier.update_object(store, kind, obj, _constant(new))
        except ConflictError:
            if attempt == 4:
                raise
    return None


def _constant(value: Obj) -> Callable[[Obj], Obj]:
    def change(_old: Obj) -> Obj:
        return value

    return change


def _status(kind: kinds.Kind, obj: Obj) -> logic.RolloutStatus:
    return logic.status_of(obj) if kind.kind == "Deployment" else rollout_sets.status_of(kind.kind, obj)


def cmd_status(args: argparse.Namespace) -> int:
    kind, namespace, name = _ref(args)
    timeout = parse_timeout(args.timeout)
    _, store = _connect(args)
    deadline = time.monotonic() + timeout if timeout > 0 else None
    last = None
    while True:
        state = _status(kind, _get_one(store, kind, namespace, name))
        if state.error:
            raise UserError(state.error)
        if state.message != last:
            print(state.message, flush=True)
            last = state.message
        if state.done or not args.watch:
            return 0
        if deadline is not None and time.monotonic() >= deadline:
            raise UserError("timed out waiting for the condition")
        time.sleep(POLL_SECONDS)


def _replicasets(store: Store, namespace: str) -> list[Obj]:
    return store.list(REPLICASET, namespace)


def cmd_history(args: argparse.Namespace) -> int:
    kind, namespace, name = _ref(args)
    _, store = _connect(args)
    owner = _get_one(store, kind, namespace, name)
    if kind.kind == "Deployment":
        rss = _replicasets(store, namespace)
        template_of: Callable[[int], Obj] = functools.partial(logic.revision_template, owner, rss)
        table = logic.history_table(owner, rss)
    else:
        crs = store.list(REVISION, namespace)
        template_of = functools.partial(rollout_sets.revision_template, owner, crs)
        table = rollout_sets.history_table(owner, crs)
    if args.revision:
        template = template_of(args.revision)
        print(f"{kind.qualified}/{name} with revision #{args.revision}")
        print("Pod Template:")
        print("  " + yaml.safe_dump(template, sort_keys=False).rstrip().replace("\n", "\n  "))
        return 0
    print(f"{kind.qualified}/{name} ")
    for line in table:
        print(line)
    print()
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    kind, namespace, name = _ref(args)
    _, store = _connect(args)
    outcome: list[str] = []

    def change_set(owner: Obj) -> Obj | None:
        rev, cr = rollout_sets.undo_target(owner, store.list(REVISION, namespace), args.to_revision)
        new = rollout_sets.rolled_back(owner, cr)
        outcome[:] = [f"skipped rollback (current template already matches revision {rev})" if new is None else "rolled back"]
        return new

    if kind.kind != "Deployment":
        _update(store, kind, namespace, name, change_set)
        print(f"{kind.qualified}/{name} {outcome[0]}")
        return 0

    def change(deploy: Obj) -> Obj | None:
        if (deploy.get("spec") or {}).get("paused"):
            raise UserError(
                "you cannot rollback a paused deployment; resume it first with "
                f"'kubeform rollout resume deployment/{name}' and try again"
            )
        rev, rs = logic.undo_target(deploy, _replicasets(store, namespace), args.to_revision)
        new = logic.rolled_back(deploy, rs)
        outcome[:] = [f"skipped rollback (current template already matches revision {rev})" if new is None else "rolled back"]
        return new

    _update(store, DEPLOYMENT, namespace, name, change)
    print(f"{DEPLOYMENT.qualified}/{name} {outcome[0]}")
    return 0


def _pause_verb(paused: bool) -> Callable[[argparse.Namespace], int]:
    def cmd(args: argparse.Namespace) -> int:
        namespace, name = _deployment_ref(args)
        _, store = _connect(args)

        def change(deploy: Obj) -> Obj | None:
            if bool((deploy.get("spec") or {}).get("paused")) == paused:
                raise UserError(f'{DEPLOYMENT.resource}.apps "{name}" is {"already" if paused else "not"} paused')
            new = dict(deploy, spec=dict(deploy.get("spec") or {}))
            if paused:
                new["spec"]["paused"] = True
            else:
                new["spec"].pop("paused", None)
            return new

        _update(store, DEPLOYMENT, namespace, name, change)
        print(f"{DEPLOYMENT.qualified}/{name} {'paused' if paused else 'resumed'}")
        return 0

    return cmd


def cmd_restart(args: argparse.Namespace) -> int:
    kind, namespace, name = _ref(args)
    _, store = _connect(args)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def change(obj: Obj) -> Obj:
        if (obj.get("spec") or {}).get("paused"):
            raise UserError("can't restart paused deployment (run rollout resume first)")
        return logic.restarted(obj, stamp)

    _update(store, kind, namespace, name, change)
    print(f"{kind.qualified}/{name} restarted")
    return 0


def cmd_set_image(args: argparse.Namespace) -> int:
    pairs = [a for a in args.rest if "=" in a]
    names = [a for a in args.rest if "=" not in a]
    if not pairs:
        raise UserError("give at least one CONTAINER=IMAGE")
    images = logic.parse_images(pairs)
    refs = _split_ref(args.kind, names)
    _, store = _connect(args)
    for kind, name in refs:
        if kind.kind not in WITH_CONTAINERS or name is None:
            raise UserError(f"cannot set the image of {kind.resource}{'' if name else ' without a name'}")

        def change(obj: Obj) -> Obj | None:
            new = logic.with_images(obj, images)
            return None if new == obj else new

        if _update(store, kind, _ns(args), name, change) is not None:
            print(f"{kind.qualified}/{name} image updated")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``rollout`` and ``set`` to the top-level parser."""
    p = sub.add_parser("rollout", help="follow, undo, pause, resume or restart a deployment's, daemonset's or statefulset's rollout")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def target(c: argparse.ArgumentParser) -> None:
        c.add_argument("kind", metavar="KIND/NAME|KIND")
        c.add_argument("names", nargs="*", metavar="NAME")
        _common(c)

    c = rsub.add_parser("status", help="wait for the rollout to finish (exit 1 when its progress deadline or --timeout passed)")
    target(c)
    c.add_argument("-w", "--watch", type=_bool, nargs="?", const=True, default=True, metavar="true|false",
                   help="keep watching until done (default true)")
    c.add_argument("--timeout", default="0s", metavar="DURATION", help="give up after this long (default 0s: never)")
    c.set_defaults(func=cmd_status)
    c = rsub.add_parser("history", help="list the revisions")
    target(c)
    c.add_argument("--revision", type=int, default=0, metavar="N", help="show the pod template of revision N")
    c.set_defaults(func=cmd_history)
    c = rsub.add_parser("undo", help="go back to the previous revision (or --to-revision)")
    target(c)
    c.add_argument("--to-revision", type=int, default=0, metavar="N")
    c.set_defaults(func=cmd_undo)
    c = rsub.add_parser("pause", help="stop rolling out template changes")
    target(c)
    c.set_defaults(func=_pause_verb(True))
    c = rsub.add_parser("resume", help="roll out again")
    target(c)
    c.set_defaults(func=_pause_verb(False))
    c = rsub.add_parser("restart", help="replace every pod (a new template stamp)")
    target(c)
    c.set_defaults(func=cmd_restart)

    p = sub.add_parser("set", help="change a field of objects")
    ssub = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    c = ssub.add_parser("image", help="set container images: KIND/NAME CONTAINER=IMAGE ... (* = every container)")
    c.add_argument("kind", metavar="KIND/NAME|KIND")
    c.add_argument("rest", nargs="+", metavar="NAME|CONTAINER=IMAGE")
    _common(c)
    c.set_defaults(func=cmd_set_image)


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
