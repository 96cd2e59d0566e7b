"""Bad input through the real CLI: one located line, exit 1, nothing else (issue 11).

Each case in tests/data/cli/bad_input.yaml is a malformed playbook, inventory, manifest
or command line that once ended in a traceback, "internal error" or a hang; it must now
give exactly the expected line. Run in-process through ``kubeform.cli.main.main`` (the
console script's entry point), in a temporary directory so messages name short paths.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from kubeform.cli.main import main

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parents[2] / "data" / "cli" / "bad_input.yaml").read_text())

# The case file's own macro syntax, so that the inputs' {{ }} stay as written.
_EXPAND = jinja2.Environment(
    variable_start_string="@{",
    variable_end_string="}@",
    block_start_string="@%",
    block_end_string="%@",
    comment_start_string="@#",
    comment_end_string="#@",
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,
)

PLAYBOOK = "- hosts: all\n  tasks: []\n"
# Port 1 on loopback: refused at once, should a case ever get as far as connecting.
INVENTORY = "all:\n  hosts:\n    h1: {ansible_host: 127.0.0.1, ansible_port: 1}\n"
MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"


def expand(text: str) -> str:
    return _EXPAND.from_string(text).render()


def write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(expand(text).encode(encoding))


def argv_for(case: dict[str, Any], tmp: Path) -> list[str]:
    """Write the case's files into ``tmp``; the command line that reads them."""
    family = case["family"]
    encoding = case.get("encoding", "utf-8")
    for name, text in (case.get("files") or {}).items():
        write(tmp / name, text, case.get("files_encoding", "utf-8"))
    if family == "argv":
        return [str(a) for a in case["argv"]]
    if family == "manifest":
        write(tmp / "m.yaml", case["text"], encoding)
        return ["apply", "-f", "m.yaml", "--cluster", str(tmp / "no-cluster")]
    inventory = case.get("file", "inv.yml") if family == "inventory" else "inv.yml"
    write(tmp / "pb.yml", case["text"] if family == "playbook" else PLAYBOOK, encoding)
    write(tmp / inventory, case["text"] if family == "inventory" else INVENTORY, encoding)
    return ["plan", "pb.yml", "-i", inventory]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_gives_one_located_line(
    case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = argv_for(case, tmp_path)
    started = time.monotonic()
    rc = main(argv)
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert rc == 1, err
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert "Traceback" not in err and "internal error" not in err, err
    first = err.splitlines()[0] if err else ""
    expected = "kubeform: error: " + expand(case["error"])
    if "…" in expected:  # a value cut in the middle
        assert "characters cut>" in first, first
        assert re.fullmatch(".*?".join(re.escape(part) for part in expected.split("…")), first), err[:2000]
    else:
        assert first == expected, err[:2000]
    assert len(first) < 1000
