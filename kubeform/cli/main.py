"""The ``kubeform`` command: one argparse parser, one module per verb group.

Each verb group module exposes ``register(subparsers)`` and sets ``func`` on its
parsers; ``func(args) -> int`` is the exit code. A ``UserError`` anywhere becomes one
line on stderr and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence

from kubeform import __version__
from kubeform.cli import cluster, engine, images, lab, objects, pods, rollout, top, wait
from kubeform.errors import UserError

VERB_GROUPS = (engine, lab, cluster, objects, images, pods, top, wait, rollout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubeform",
        description=(
            "Declarative provisioning of small container clusters over SSH: "
            "inventory + playbooks -> plan (diff) -> apply; manifests -> etcd -> reconciler."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kubeform {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for group in VERB_GROUPS:
        group.register(sub)
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """Built once per process (30 ms): in-process callers such as tests run main() often."""
    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
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
