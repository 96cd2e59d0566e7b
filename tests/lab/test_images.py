"""The cluster image registry on a lab: pushed images are listed, and a node reads them
through the mirror path (<first master>:5000/<path>) with TLS from the cluster CA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.images import busybox
from kubeform.images.archive import host_platform
from kubeform.images.connect import cluster_registry
from tests.lab.conftest import PodsCluster

NODE = "kf-node1"


def _registry(cluster: PodsCluster) -> str:
    return str(ClusterDir.load(cluster.cluster_dir).extra["registry"])


def test_pushed_busybox_is_listed(pods_cluster: PodsCluster) -> None:
    rows = [line.split() for line in pods_cluster.kf("image", "ls").stdout.splitlines()]
    assert rows[0] == ["REPOSITORY", "TAG"]
    assert ["library/busybox", "1.36"] in rows and ["library/busybox", "latest"] in rows


def test_registry_runs_under_kubeform_unit_on_the_first_master(pods_cluster: PodsCluster) -> None:
    out = pods_cluster.ssh("kf-master1", "systemctl is-active kubeform-registry; systemctl is-enabled docker-registry || true")
    assert out.split()[:2] == ["active", "disabled"]


def test_node_reads_the_mirror_path_with_tls(pods_cluster: PodsCluster) -> None:
    registry = _registry(pods_cluster)
    # the CA every node trusts for the registry is the cluster CA
    cas = pods_cluster.ssh(
        NODE,
        f"sha256sum /etc/kubeform/pki/ca.crt /etc/containers/certs.d/{registry}/ca.crt "
        f"/etc/docker/certs.d/{registry}/ca.crt | cut -d' ' -f1 | sort -u | wc -l",
    )
    assert cas.strip() == "1"
    inspected = json.loads(pods_cluster.ssh(NODE, f"skopeo inspect docker://{registry}/library/busybox:1.36"))
    expected = busybox.build_from_host(arch=host_platform()[1]).digest
    assert inspected["Digest"] == expected
    assert inspected["Os"] == "linux"
    # without the CA the same request fails: TLS is verified, not skipped
    refused = pods_cluster.ssh(
        NODE,
        f"d=$(mktemp -d); skopeo inspect --cert-dir $d docker://{registry}/library/busybox:1.36 2>&1; "
        "echo rc=$?; rmdir $d",
        check=False,
    )
    assert "rc=0" not in refused and ("certificate" in refused or "x509" in refused)


def test_a_docker_save_tarball_lands_under_its_mirror_path(pods_cluster: PodsCluster, tmp_path: Path) -> None:
    """quay.io/kubeform-test/hello:1 is stored (and read by a node) as kubeform-test/hello:1."""
    from tests.integration.test_image_registry import _docker_save

    archive = tmp_path / "saved.tar"
    _docker_save(archive, "quay.io/kubeform-test/hello:1")
    registry = _registry(pods_cluster)
    cd = ClusterDir.load(pods_cluster.cluster_dir)
    try:
        out = pods_cluster.kf("image", "push", str(archive)).stdout
        assert "pushed kubeform-test/hello:1" in out
        tags = json.loads(pods_cluster.ssh(NODE, f"skopeo list-tags docker://{registry}/kubeform-test/hello"))
        assert tags["Tags"] == ["1"]
    finally:
        with cluster_registry(cd) as client:
            resp = client.session.head(
                f"{client.base_url}/v2/kubeform-test/hello/manifests/1",
                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
            )
            digest = resp.headers.get("Docker-Content-Digest")
            if digest:
                client.session.delete(f"{client.base_url}/v2/kubeform-test/hello/manifests/{digest}")


@pytest.mark.parametrize("ref", ["busybox:1.36"])
def test_image_ls_through_the_ssh_tunnel(pods_cluster: PodsCluster, ref: str, tmp_path: Path) -> None:
    """With ssh_tunnel set in cluster.yml the registry is reached through the master."""
    import shutil

    import yaml

    copy = tmp_path / "tunnelled"
    shutil.copytree(pods_cluster.cluster_dir, copy)
    data = yaml.safe_load((copy / "cluster.yml").read_text())
    data["ssh_tunnel"] = data["ssh_tunnel_fallback"]
    (copy / "cluster.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    out = pods_cluster.kf("image", "ls", "--cluster", str(copy)).stdout
    assert "library/busybox" in out and ref.split(":")[1] in out


def test_docker_on_a_node_pulls_from_the_registry_with_tls(pods_cluster: PodsCluster) -> None:
    """docker (the runtime of DOCKER_HOST) trusts the registry through /etc/docker/certs.d
    and takes the OCI manifest with its uncompressed layer."""
    from tests.lab.conftest import DOCKER_HOST

    registry = _registry(pods_cluster)
    ref = f"{registry}/library/busybox:1.36"
    try:
        pods_cluster.ssh(DOCKER_HOST, f"docker pull -q {ref}")
        out = pods_cluster.ssh(DOCKER_HOST, f"docker run --rm --network none {ref} sh -c 'echo from-registry; ls /bin/httpd'")
        assert out.split() == ["from-registry", "/bin/httpd"]
    finally:
        pods_cluster.ssh(DOCKER_HOST, f"docker rmi -f {ref} >/dev/null 2>&1 || true", check=False)
