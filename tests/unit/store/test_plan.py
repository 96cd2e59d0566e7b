"""What apply stores given the live object: carry-over, generation, outcomes, conflicts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeform.errors import UserError
from kubeform.store import plan

DEPLOY: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "w", "image": "nginx:1"}]}},
    },
}


def _plan(desired: dict[str, Any], live: dict[str, Any] | None, alloc: plan.Allocations | None = None) -> tuple[dict[str, Any], str]:
    return plan.plan_object(desired, live, now="2024-01-01T00:00:00Z", new_uid=lambda: "uid-1", alloc=alloc)


def _stored_as_live(stored: dict[str, Any], rv: int = 5) -> dict[str, Any]:
    live = copy.deepcopy(stored)
    live["metadata"]["resourceVersion"] = str(rv)
    return live


def test_create_then_unchanged_then_configured() -> None:
    stored, outcome = _plan(DEPLOY, None)
    assert outcome == plan.CREATED
    assert stored["metadata"] == {
        "name": "web", "namespace": "default", "uid": "uid-1",
        "creationTimestamp": "2024-01-01T00:00:00Z", "generation": 1,
    }  # fmt: skip
    live = _stored_as_live(stored)
    live["status"] = {"readyReplicas": 1}
    again, outcome = _plan(DEPLOY, live)
    assert outcome == plan.UNCHANGED and again["status"] == {"readyReplicas": 1}
    changed = copy.deepcopy(DEPLOY)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    new, outcome = _plan(changed, live)
    assert outcome == plan.CONFIGURED and new["metadata"]["generation"] == 2
    labels_only = copy.deepcopy(DEPLOY)
    labels_only["metadata"]["labels"] = {"x": "y"}
    new, outcome = _plan(labels_only, live)
    assert outcome == plan.CONFIGURED and new["metadata"]["generation"] == 1


def test_replicas_left_to_the_cluster_when_omitted() -> None:
    stored, _ = _plan(DEPLOY, None)
    live = _stored_as_live(stored)
    live["spec"]["replicas"] = 7  # scaled by an HPA or `kubeform scale`
    new, outcome = _plan(DEPLOY, live)
    assert new["spec"]["replicas"] == 7 and outcome == plan.UNCHANGED


def test_stale_resource_version_is_a_conflict() -> None:
    stored, _ = _plan(DEPLOY, None)
    live = _stored_as_live(stored, rv=9)
    stale = copy.deepcopy(DEPLOY)
    stale["metadata"]["resourceVersion"] = "8"
    with pytest.raises(UserError, match="conflict"):
        _plan(stale, live)
    stale["metadata"]["resourceVersion"] = "9"
    _plan(stale, live)


def test_selector_is_immutable() -> None:
    stored, _ = _plan(DEPLOY, None)
    live = _stored_as_live(stored)
    other = copy.deepcopy(DEPLOY)
    other["spec"]["selector"] = {"matchLabels": {"app": "web", "v": "2"}}
    other["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    with pytest.raises(UserError, match="immutable"):
        _plan(other, live)


JOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi"},
    "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34.0"}]}}},
}


def test_job_selector_made_from_the_uid_and_kept_on_reapply() -> None:
    """The docs' job.yaml: selected by batch.kubernetes.io/controller-uid, its pods labelled
    batch.kubernetes.io/job-name=pi; re-applied over a Job stored with the older selector
    (controller-uid alone), that selector stays, or the Job would let go of its pods."""
    stored, _ = _plan(JOB, None)
    assert stored["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-1"}}
    labels = stored["spec"]["template"]["metadata"]["labels"]
    assert labels["batch.kubernetes.io/job-name"] == "pi" and labels["job-name"] == "pi"
    assert stored["metadata"]["labels"] == labels
    live = _stored_as_live(stored)
    live["spec"]["selector"] = {"matchLabels": {"controller-uid": "uid-1"}}
    new, _ = _plan(JOB, live)
    assert new["spec"]["selector"] == {"matchLabels": {"controller-uid": "uid-1"}}


SVC: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "s"},
    "spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80}]},
}


def test_service_allocation_kept_and_released() -> None:
    alloc = plan.Allocations(cidr="10.96.0.0/28", ips={"10.96.0.1"})
    stored, _ = _plan(SVC, None, alloc)
    ip = stored["spec"]["clusterIP"]
    np = stored["spec"]["ports"][0]["nodePort"]
    assert alloc.new_ips == [ip] and alloc.new_ports == [np] and stored["spec"]["clusterIPs"] == [ip]
    live = _stored_as_live(stored)
    alloc2 = plan.Allocations(cidr="10.96.0.0/28", ips={"10.96.0.1", ip}, ports={np})
    _, outcome = _plan(SVC, live, alloc2)
    assert outcome == plan.UNCHANGED and alloc2.new_ips == [] and alloc2.new_ports == []
    as_cluster_ip = copy.deepcopy(SVC)
    as_cluster_ip["spec"]["type"] = "ClusterIP"
    new, _ = _plan(as_cluster_ip, live, alloc2)
    assert "nodePort" not in new["spec"]["ports"][0]
    assert plan.released(live, new) == ([], [np])
    assert plan.released(live, None) == ([ip], [np])


def test_cluster_ip_change_refused() -> None:
    stored, _ = _plan(SVC, None, plan.Allocations())
    live = _stored_as_live(stored)
    other = copy.deepcopy(SVC)
    other["spec"]["clusterIP"] = "10.96.0.77"
    with pytest.raises(UserError, match="immutable"):
        _plan(other, live, plan.Allocations())


def test_requested_ip_taken() -> None:
    asked = copy.deepcopy(SVC)
    asked["spec"]["clusterIP"] = "10.96.0.10"
    with pytest.raises(UserError, match="already allocated"):
        _plan(asked, None, plan.Allocations(ips={"10.96.0.10"}))


SECRET: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}


@pytest.mark.parametrize(
    ("kind", "live_extra", "change", "field"),
    [
        ("Secret", {}, {"type": "kubernetes.io/tls"}, "type"),
        ("Secret", {"immutable": True}, {"immutable": True, "stringData": {"k": "other"}}, "data"),
        ("Secret", {"immutable": True}, {"immutable": False}, "immutable"),
        ("ConfigMap", {"immutable": True}, {"immutable": True, "data": {"k": "other"}}, "data"),
        ("ConfigMap", {"immutable": True}, {}, "immutable"),
    ],
)
def test_immutable_fields_refused_as_the_apiserver_does(
    kind: str, live_extra: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    base = copy.deepcopy(SECRET) if kind == "Secret" else {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    stored, _ = _plan({**base, **live_extra}, None)
    live = _stored_as_live(stored)
    _plan({**base, **live_extra}, live)  # the same again is fine
    with pytest.raises(UserError) as info:
        _plan({**base, **change}, live)
    assert info.value.field == field and "immutable" in info.value.message


def test_mutable_secret_may_change_its_data() -> None:
    stored, _ = _plan(SECRET, None)
    _, outcome = _plan({**SECRET, "stringData": {"k": "w"}}, _stored_as_live(stored))
    assert outcome == plan.CONFIGURED
