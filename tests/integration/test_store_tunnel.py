"""Reaching etcd through the ssh_tunnel of cluster.yml (real sshd, real TLS etcd)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kubeform.api import kinds
from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.store import applier
from kubeform.store import client as store_mod
from kubeform.store.client import Store
from kubeform.store.manifests import Doc
from kubeform.store.tunnel import tunnel_host_vars

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer
    from tests.sshd_server import SSHDServer

pytest_plugins = ["tests.etcd_server"]
pytestmark = pytest.mark.integration


def test_tunnel_vars() -> None:
    assert tunnel_host_vars("root@m1:2222") == ("m1", {"ansible_host": "m1", "ansible_user": "root", "ansible_port": 2222})
    assert tunnel_host_vars("m1") == ("m1", {"ansible_host": "m1"})


def test_store_through_ssh_tunnel(etcd_clean: EtcdServer, sshd_hosts: SSHDServer) -> None:
    base = etcd_clean.cluster
    cd = ClusterDir(
        base.path,
        base.name,
        [f"https://localhost:{etcd_clean.port}"],  # as the master sees it; TLS checks this name
        sshd_hosts.host_vars(sshd_hosts.addresses[0]),
    )
    store = Store.from_cluster(cd)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "via-tunnel"}, "data": {"a": "b"}}
    applier.apply_docs(store, [(Doc("t", 1, cm), kinds.BY_KIND["ConfigMap"])])
    assert etcd_clean.client().get("/registry/configmaps/default/via-tunnel")


def test_store_falls_back_to_the_recorded_master_when_etcd_is_unreachable(
    etcd_clean: EtcdServer, sshd_hosts: SSHDServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = etcd_clean.cluster
    cd = ClusterDir(
        base.path,
        base.name,
        [f"https://localhost:{etcd_clean.port}"],
        None,
        {store_mod.FALLBACK_KEY: {"name": "m1", **sshd_hosts.host_vars(sshd_hosts.addresses[0])}},
    )
    monkeypatch.setattr(store_mod, "_reachable", lambda urls, timeout=2.0: False)
    store = Store.from_cluster(cd)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "via-fallback"}, "data": {"a": "b"}}
    applier.apply_docs(store, [(Doc("t", 1, cm), kinds.BY_KIND["ConfigMap"])])
    assert etcd_clean.client().get("/registry/configmaps/default/via-fallback")
