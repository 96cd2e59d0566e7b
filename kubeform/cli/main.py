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
}


def verb_groups(argv: Sequence[str] | None = None) -> list[ModuleType]:
    """The group of argv's verb alone when it is known, else every group (help, errors)."""
    names = list(VERBS)
    if list(argv or [])[:1] == ["--version"]:
        return []
    if argv and not argv[0].startswith("-"):
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
    for group in verb_groups(argv):
        group.register(sub)
    return parser


def _verb_key(argv: Sequence[str]) -> str:
    """What decides the parser: the first argument (a verb, --version, or nothing)."""
    return argv[0] if argv else ""


@functools.cache
def _parser(key: str) -> argparse.ArgumentParser:
    """Built once per process and first argument (only the verb's group is imported):
    in-process callers such as the fuzz test run main() thousands of times."""
    return build_parser([key] if key else [])


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser(_verb_key(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
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
