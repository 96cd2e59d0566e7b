"""The ``kubeform`` command: one argparse parser, one module per verb group.

Each verb group module exposes ``register(subparsers)`` and sets ``func`` on its
parsers; ``func(args) -> int`` is the exit code. A ``UserError`` anywhere becomes one
line on stderr and exit 1, never a traceback.

Only the group of the verb being run is imported (VERBS says which): the groups between
them pull in etcd and HTTP clients, jsonschema, cryptography and rich, about a second of
CPU on a small machine, and ``kubeform apply`` in a loop or a benchmark pays it each time.
``kubeform --help`` or an unknown verb still imports them all.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from kubeform import __version__
from kubeform.errors import UserError

#: The verb groups (modules of kubeform.cli) in help order, each with the verbs it registers.
VERBS: dict[str, tuple[str, ...]] = {
    "engine": ("run", "plan"),
    "lab": ("lab",),
    "cluster": ("up", "down"),
    "objects": ("apply", "diff", "get", "describe", "delete", "scale", "label", "annotate", "create"),
    "images": ("image",),
    "pods": ("logs", "exec"),
    "top": ("top",),
    "wait": ("wait",),
    "rollout": ("rollout", "set"),
    "generate": ("expose", "autoscale"),
}

#: ``run`` with ``--image`` is kubectl's run (a pod, kubeform/cli/generate.py), not a playbook.
POD_RUN_GROUP = "generate"


def verb_groups(argv: Sequence[str] | None = None) -> list[ModuleType]:
    """The group of argv's verb alone when it is known, else every group (help, errors)."""
    names = list(VERBS)
    if list(argv or [])[:1] == ["--version"]:
        return []
    if argv and argv[0] == "run" and _pod_run(argv):
        names = [POD_RUN_GROUP]
    elif argv and not argv[0].startswith("-"):
        names = [g for g, verbs in VERBS.items() if argv[0] in verbs] or names
    return [importlib.import_module(f"kubeform.cli.{name}") for name in names]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubeform",
        description=(
            "Declarative provisioning of small container clusters over SSH: "
            "inventory + playbooks -> plan (diff) -> apply; manifests -> etcd -> reconciler."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kubeform {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    words = list(argv or [])
    pod_run = words[:1] == ["run"] and _pod_run(words)
    for group in verb_groups(argv):
        if pod_run:
            group.register_run(sub)  # kubectl's run (generate.py), not the playbook run
        else:
            group.register(sub)
    return parser


def _pod_run(argv: Sequence[str]) -> bool:
    """``run ... --image ...`` (before any ``--``): kubectl's run of a pod."""
    for arg in argv[1:]:
        if arg == "--":
            return False
        if arg == "--image" or arg.startswith("--image="):
            return True
    return False


def _verb_key(argv: Sequence[str]) -> str:
    """What decides the parser: the first argument (a verb, --version, or nothing);
    ``run`` of a pod and ``run`` of a playbook are two parsers."""
    if argv and argv[0] == "run" and _pod_run(argv):
        return "run --image"
    return argv[0] if argv else ""


@functools.cache
def _parser(key: str) -> argparse.ArgumentParser:
    """Built once per process and first argument (only the verb's group is imported):
    in-process callers such as the fuzz test run main() thousands of times."""
    return build_parser(key.split() if key else [])


#: Verbs whose words after ``--`` are a container's command or args (``args.rest``):
#: argparse cannot take a ``nargs="*"`` positional after options, so they are cut off first.
COMMAND_TAIL_VERBS = ("run --image", "create")


def _split_tail(argv: Sequence[str]) -> tuple[list[str], list[str] | None]:
    items = list(argv)
    if "--" not in items:
        return items, None
    i = items.index("--")
    return items[:i], items[i + 1 :]


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    key = _verb_key(given)
    parser = _parser(key)
    tail = None
    if key in COMMAND_TAIL_VERBS:
        given, tail = _split_tail(given)
    args = parser.parse_args(given)
    if tail is not None:
        if not hasattr(args, "rest"):
            parser.error(f"unexpected arguments after --: {' '.join(tail)}")
        args.rest = [*args.rest, *tail]
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0 if args.verb is None else 1
    try:
        return int(func(args))
    except UserError as err:
        print(f"kubeform: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kubeform: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # an internal bug: say so briefly, traceback on request
        if os.environ.get("KUBEFORM_DEBUG"):
            raise
        print(
            f"kubeform: internal error: {type(err).__name__}: {err} "
            "(set KUBEFORM_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
