"""The ``kubeform lab`` verbs parse, and refuse clearly when not root."""

from __future__ import annotations

import pytest

from kubeform.cli.main import build_parser, main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["lab", "up"], {"hosts": 3, "name": "kubeform", "subnet": "192.168.56.0/24", "rebuild": False}),
        (["lab", "up", "--hosts", "5", "--name", "big", "--subnet", "10.9.0.0/24", "--rebuild"],
         {"hosts": 5, "name": "big", "subnet": "10.9.0.0/24", "rebuild": True}),
        (["lab", "ssh", "kf-node1", "uname", "-a"], {"host": "kf-node1", "command": ["uname", "-a"]}),
        (["lab", "reboot", "kf-node1", "--no-wait"], {"host": "kf-node1", "no_wait": True}),
        (["lab", "partition", "--name", "kftest", "kf-node2"], {"host": "kf-node2", "name": "kftest"}),
        (["lab", "down"], {"name": "kubeform"}),
    ],
)
def test_parse(argv: list[str], expected: dict[str, object]) -> None:
    args = build_parser().parse_args(argv)
    for key, value in expected.items():
        assert getattr(args, key) == value
    assert callable(args.func)


@pytest.mark.parametrize("verb", [["up"], ["down"], ["stop", "kf-node1"], ["partition", "kf-node1"]])
def test_not_root_is_one_line(
    verb: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert main(["lab", *verb]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs root" in err and "sudo" in err


def test_bad_name_is_reported_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "up", "--name", "Bad_Name"]) == 1
    assert "--name: invalid lab name" in capsys.readouterr().err
