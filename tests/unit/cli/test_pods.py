"""`kubeform logs`/`exec` decisions (kubeform/cli/pods.py), data-driven from tests/data/cli/pods.yaml.

The SSH session itself is exercised on the lab (tests/lab/test_logs_exec.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.cli import main, pods
from kubeform.errors import UserError

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[2] / "data" / "cli" / "pods.yaml").read_text()
)
PODS = CASES["pods"]


@pytest.mark.parametrize("case", CASES["choose"], ids=lambda c: c["name"])
def test_choose_container(case: dict[str, Any]) -> None:
    pod = PODS[case["pod"]]
    if "error" in case:
        with pytest.raises(UserError) as err:
            pods.choose_container(pod, case["requested"])
        assert str(err.value) == case["error"]
    else:
        assert pods.choose_container(pod, case["requested"]) == case["want"]


@pytest.mark.parametrize("case", CASES["reachable"], ids=lambda c: c["name"])
def test_check_reachable(case: dict[str, Any]) -> None:
    pod = PODS[case["pod"]]
    if "error" in case:
        with pytest.raises(UserError) as err:
            pods.check_reachable(pod, case["container"], case["verb"])
        assert str(err.value) == case["error"]
    else:
        assert pods.check_reachable(pod, case["container"], case["verb"]) == case["want"]


@pytest.mark.parametrize("case", CASES["remote"], ids=lambda c: c["name"])
def test_remote_command(case: dict[str, Any]) -> None:
    got = pods.remote_command(case["verb"], PODS[case["pod"]], case["container"], **case["kw"])
    assert got == case["want"]


@pytest.mark.parametrize("case", CASES["split"], ids=str)
def test_split_exec_args(case: dict[str, Any]) -> None:
    assert pods.split_exec_args(case["rest"]) == (case["options"], case["command"])


def test_exec_options_after_the_pod_are_options() -> None:
    args = main.build_parser().parse_args(["exec", "web", "-c", "app", "-n", "ns1", "-i", "--", "ls", "-c"])
    options, command = pods.split_exec_args(args.command)
    pods._exec_options(args, options)
    assert (args.pod, args.container, args.namespace, args.stdin, args.tty, command) == (
        "web", "app", "ns1", True, False, ["ls", "-c"],
    )


def test_logs_flags_parse_as_kubectls() -> None:
    args = main.build_parser().parse_args(["logs", "web", "-c", "app", "-f", "-p", "--tail", "5", "-n", "x"])
    assert (args.pod, args.container, args.follow, args.previous, args.tail, args.namespace) == (
        "web", "app", True, True, 5, "x",
    )


def test_node_without_recorded_connection_says_run_up_again() -> None:
    from types import SimpleNamespace

    cd = SimpleNamespace(extra={"ssh_hosts": {"kf-node1": {"name": "kf-node1", "ansible_host": "10.0.0.2"}}})
    assert pods.node_host_vars(cd, "kf-node1") == {"ansible_host": "10.0.0.2"}  # type: ignore[arg-type]
    with pytest.raises(UserError, match="no connection for node kf-node9"):
        pods.node_host_vars(cd, "kf-node9")  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES["first_pod"]["cases"], ids=lambda c: c["name"])
def test_first_pod(case: dict[str, Any]) -> None:
    owner = CASES["first_pod"]["owner"]
    if "error" in case:
        with pytest.raises(UserError) as err:
            pods.first_pod(owner, case["pods"])
        assert str(err.value) == case["error"]
        return
    pod, count = pods.first_pod(owner, case["pods"])
    assert [pod["metadata"]["name"], count] == case["want"]


def test_a_job_selects_its_pods_by_controller_uid() -> None:
    job = {"kind": "Job", "metadata": {"name": "pi"},
           "spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u9"}}}}
    mine = {"metadata": {"name": "pi-x", "labels": {"batch.kubernetes.io/controller-uid": "u9"}}, "status": {}}
    other = {"metadata": {"name": "pi-y", "labels": {"batch.kubernetes.io/controller-uid": "u8"}}, "status": {}}
    assert pods.first_pod(job, [other, mine]) == (mine, 1)
