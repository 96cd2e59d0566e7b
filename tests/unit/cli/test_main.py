"""The CLI imports only the group of the verb it runs; VERBS must name every group's verbs."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubeform.cli import main

ROOT = Path(__file__).parents[3]


@pytest.mark.parametrize("group", list(main.VERBS))
def test_verbs_names_what_each_group_registers(group: str) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="verb")
    importlib.import_module(f"kubeform.cli.{group}").register(sub)
    registered = {name for name, p in sub.choices.items() if p.prog.split()[-1] == name}
    assert registered == set(main.VERBS[group])


def test_run_with_an_image_is_kubectls_run_else_a_playbook() -> None:
    """`run NAME --image=IMG` makes a pod (generate.py); `run PLAYBOOK -i INV` runs a playbook."""
    pod = main.build_parser(["run", "web", "--image=nginx"]).parse_args(["run", "web", "--image=nginx", "--port=80"])
    assert (pod.name, pod.image, pod.port) == ("web", "nginx", "80")
    book = main.build_parser(["run", "site.yml"]).parse_args(["run", "site.yml", "-i", "inv"])
    assert (book.playbook, book.inventory) == ("site.yml", "inv")
    # --image after -- is a word of the pod's command, not the flag
    assert not main._pod_run(["run", "site.yml", "-i", "inv", "--", "--image=x"])
    assert main._verb_key(["run", "x", "--image", "y"]) == "run --image"


def test_a_verb_builds_only_its_group_and_help_builds_all() -> None:
    assert [m.__name__ for m in main.verb_groups(["apply", "-f", "x"])] == ["kubeform.cli.objects"]
    assert len(main.verb_groups(["--help"])) == len(main.VERBS)
    assert len(main.verb_groups(["no-such-verb"])) == len(main.VERBS)
    assert len(main.verb_groups([])) == len(main.VERBS)
    assert main.verb_groups(["--version"]) == []


def test_apply_does_not_import_the_other_groups_stacks() -> None:
    code = "import sys; sys.argv = ['kubeform', 'apply', '--help']\nfrom kubeform.cli.main import main\ntry:\n    main()\nexcept SystemExit:\n    pass\nprint(' '.join(sorted(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout
    loaded = set(out.split())
    assert not loaded & {"etcd3gw", "requests", "rich", "cryptography", "kubeform.cli.images", "kubeform.cli.lab"}
