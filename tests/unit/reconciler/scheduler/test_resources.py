"""Pod requests (init containers, sidecars, overhead, limits) and host ports."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubeform.reconciler.scheduler.resources import InvalidPod, host_ports, pod_requests

from .cases import DATA

CASES = yaml.safe_load((DATA / "requests.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_pod_requests(case: dict[str, Any]) -> None:
    assert list(pod_requests({"spec": case["spec"]})) == case["want"]


def test_invalid_request_names_the_field() -> None:
    pod = {"spec": {"initContainers": [{"name": "i", "resources": {"limits": {"memory": "1 Gi"}}}]}}
    with pytest.raises(InvalidPod, match=r"^spec\.initContainers\[0\]\.resources\.limits\.memory: '1 Gi' is not a quantity$"):
        pod_requests(pod)


def test_host_ports_defaults() -> None:
    pod = {
        "spec": {
            "containers": [{"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 8081},
                                                    {"containerPort": 53, "hostPort": 53, "protocol": "UDP", "hostIP": "10.0.0.1"}]}],
            "initContainers": [{"name": "i", "ports": [{"containerPort": 9, "hostPort": 9}]},
                               {"name": "s", "restartPolicy": "Always", "ports": [{"containerPort": 7, "hostPort": 7}]}],
        }
    }  # fmt: skip
    assert host_ports(pod) == [("TCP", "0.0.0.0", 8081), ("UDP", "10.0.0.1", 53), ("TCP", "0.0.0.0", 7)]
