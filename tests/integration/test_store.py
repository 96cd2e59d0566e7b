"""The store against a real TLS etcd: revisions, conflicts, allocation races, big batches,
and the property that after apply the diff is empty."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeform.api import kinds
from kubeform.errors import UserError
from kubeform.store import applier, plan
from kubeform.store.client import ConflictError, Op, Store, encode
from kubeform.store.manifests import Doc

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]  # one etcd for the whole run

pytestmark = pytest.mark.integration

CM = kinds.BY_KIND["ConfigMap"]
SVC = kinds.BY_KIND["Service"]


def cm(name: str, data: dict[str, str], ns: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def items(*objs: dict[str, Any]) -> list[tuple[Doc, kinds.Kind]]:
    return [(Doc("t", i + 1, o), kinds.BY_KIND[o["kind"]]) for i, o in enumerate(objs)]


def test_key_layout_and_resource_version(etcd_clean: EtcdServer) -> None:
    store = Store.from_cluster(etcd_clean.cluster)
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    applier.apply_docs(store, items(cm("a", {"k": "v"}, "team"), ns))
    raw = etcd_clean.client().get("/registry/configmaps/team/a", metadata=True)
    value, meta = raw[0]
    assert "resourceVersion" not in json.loads(value)["metadata"]
    live = store.get(CM, "team", "a")
    assert live is not None and live["metadata"]["resourceVersion"] == str(meta["mod_revision"])
    assert etcd_clean.client().get("/registry/namespaces/team")


def test_stale_write_is_refused(etcd_clean: EtcdServer) -> None:
    store = Store.from_cluster(etcd_clean.cluster)
    applier.apply_docs(store, items(cm("a", {"k": "1"})))
    first = store.get(CM, "default", "a")
    assert first is not None
    applier.update_object(store, CM, first, lambda o: {**o, "data": {"k": "2"}})
    with pytest.raises(ConflictError, match="conflict"):
        applier.update_object(store, CM, first, lambda o: {**o, "data": {"k": "3"}})
    stale = copy.deepcopy(first)
    stale["data"] = {"k": "4"}
    with pytest.raises(UserError, match="resourceVersion"):
        applier.apply_docs(store, items(stale))
    live = store.get(CM, "default", "a")
    assert live is not None and live["data"] == {"k": "2"}


def test_create_refused_when_someone_created_first(etcd_clean: EtcdServer) -> None:
    store = Store.from_cluster(etcd_clean.cluster)
    key = CM.key("default", "x")
    assert store.txn([Op(key, encode(cm("x", {})), 0)]).succeeded
    assert not store.txn([Op(key, encode(cm("x", {"a": "b"})), 0)]).succeeded


def test_allocation_race_resolved(etcd_clean: EtcdServer) -> None:
    """Two writers plan the same ClusterIP; the second's txn fails and it re-plans."""
    store = Store.from_cluster(etcd_clean.cluster)
    cidr = "10.96.0.0/29"  # five usable addresses: collisions are likely
    svcs = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}"},
         "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}]}}
        for i in range(5)
    ]  # fmt: skip
    planned_a = applier.plan_all(store, items(svcs[0]), service_cidr=cidr)
    planned_b = applier.plan_all(store, items(*svcs[1:]), service_cidr=cidr)
    # writer A commits first; B's plans were made against the same (empty) allocation view
    assert store.txn(planned_a[0].ops()).succeeded
    clash = [p for p in planned_b if p.stored["spec"]["clusterIP"] == planned_a[0].stored["spec"]["clusterIP"]]
    if clash:
        assert not store.txn(clash[0].ops()).succeeded
    applier.apply_docs(store, items(*svcs[1:]), service_cidr=cidr)
    ips = [o["spec"]["clusterIP"] for o in store.list(SVC, "default")]
    assert len(ips) == 5 and len(set(ips)) == 5
    with pytest.raises(UserError, match="no free ClusterIP"):
        extra = copy.deepcopy(svcs[0])
        extra["metadata"]["name"] = "s5"
        applier.apply_docs(store, items(extra), service_cidr=cidr)
    applier.delete_object(store, SVC, store.get(SVC, "default", "s0") or {})
    applier.apply_docs(store, items(extra), service_cidr=cidr)  # the freed address is reused


def test_nodeport_collision_refused(etcd_clean: EtcdServer) -> None:
    store = Store.from_cluster(etcd_clean.cluster)
    mk = lambda n: {"apiVersion": "v1", "kind": "Service", "metadata": {"name": n},  # noqa: E731
                    "spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80, "nodePort": 30007}]}}  # fmt: skip
    applier.apply_docs(store, items(mk("one")))
    with pytest.raises(UserError, match="30007 is already allocated"):
        applier.apply_docs(store, items(mk("two")))


def test_large_apply_is_batched(etcd_clean: EtcdServer) -> None:
    store = Store.from_cluster(etcd_clean.cluster)
    objs = [cm(f"c{i:04d}", {"i": str(i)}) for i in range(450)]
    done = applier.apply_docs(store, items(*objs))
    assert {p.outcome for p in done} == {plan.CREATED}
    assert len(store.list(CM)) == 450
    again = applier.apply_docs(store, items(*objs))
    assert {p.outcome for p in again} == {plan.UNCHANGED}


label_values = st.text(alphabet="abcxyz019", min_size=1, max_size=6)
data_maps = st.dictionaries(st.text(alphabet="abc.-_", min_size=1, max_size=5), st.text(max_size=20), max_size=4)


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    app = "web"  # the selector is immutable, so one app label per name
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": app}},
        "template": {
            "metadata": {"labels": {"app": app, **draw(st.dictionaries(st.sampled_from(["tier", "env"]), label_values))}},
            "spec": {"containers": [{"name": "c", "image": draw(st.sampled_from(["nginx", "nginx:1.2", "redis:7"]))}]},
        },
    }
    if draw(st.booleans()):
        spec["replicas"] = draw(st.integers(min_value=0, max_value=5))
    if draw(st.booleans()):
        spec["strategy"] = {"type": "Recreate"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(deployments(), data_maps.map(lambda d: cm("web", d))), min_size=1, max_size=4))
def test_diff_apply_diff_is_empty(etcd_tls: EtcdServer, sequence: list[dict[str, Any]]) -> None:
    """Whatever was there before, after applying a manifest the diff against it is empty."""
    etcd_tls.wipe()
    store = Store.from_cluster(etcd_tls.cluster)
    for obj in sequence:
        applier.apply_docs(store, items(obj))
        planned = applier.plan_all(store, items(obj))
        assert [p.outcome for p in planned] == [plan.UNCHANGED]


def test_builtins_idempotent(etcd_clean: EtcdServer) -> None:
    store = Store.from_cluster(etcd_clean.cluster)
    created = applier.ensure_builtins(store)
    assert {p.ref for p in created} >= {"namespace/default", "namespace/kube-system", "service/kubernetes"}
    svc = store.get(SVC, "default", "kubernetes")
    assert svc is not None and svc["spec"]["clusterIP"] == "10.96.0.1"
    assert etcd_clean.client().get("/registry/ranges/serviceips/10.96.0.1")
    dns = store.get(SVC, "kube-system", "kube-dns")
    assert dns is not None and dns["spec"]["clusterIP"] == "10.96.0.10"
    assert dns["spec"]["internalTrafficPolicy"] == "Local"
    assert applier.ensure_builtins(store) == []
