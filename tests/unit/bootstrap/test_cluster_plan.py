"""cluster_plan and prepare: membership, names and variables decided before any host is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeform.bootstrap.cluster_plan import (
    cluster_plan,
    default_cluster_name,
    membership_of,
    prepare,
    record_members,
)
from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.errors import UserError
from kubeform.inventory.loader import load_inventory


def _inventory(tmp_path: Path, etcd: list[str], extra_vars: str = "", name: str = "inventory.yml") -> Path:
    hosts = "".join(f"    {h}: {{ansible_host: 10.0.0.{i + 1}}}\n" for i, h in enumerate(["m1", "m2", "m3", "n1"]))
    members = "".join(f"        {h}:\n" for h in etcd)
    path = tmp_path / name
    path.write_text(
        "all:\n  vars:\n    ansible_user: root\n" + extra_vars + "  hosts:\n" + hosts
        + "  children:\n    etcd:\n      hosts:\n" + members
    )
    return path


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/var/lib/kubeform/lab/kfdev/inventory.yml", "kfdev"),
        ("/srv/prod.yml", "prod"),
        ("/srv/clusters/blue/hosts", "blue"),
        ("/srv/clusters/blue/hosts.ini", "blue"),
    ],
)
def test_default_cluster_name(source: str, expected: str) -> None:
    assert default_cluster_name(source) == expected


def test_cluster_name_from_the_inventory_wins(tmp_path: Path) -> None:
    path = _inventory(tmp_path, ["m1"], "    cluster_name: prod\n")
    assert cluster_plan(load_inventory(str(path))).name == "prod"


@pytest.mark.parametrize("members", [[], ["m1", "m2"]])
def test_an_even_or_empty_etcd_group_is_refused(tmp_path: Path, members: list[str]) -> None:
    path = _inventory(tmp_path, members)
    if not members:
        path.write_text(path.read_text().replace("    etcd:\n      hosts:\n", "    nodes:\n      hosts:\n        n1:\n"))
    with pytest.raises(UserError) as err:
        cluster_plan(load_inventory(str(path)))
    assert err.value.field == "etcd"


def test_a_bad_pod_network_is_one_user_error(tmp_path: Path) -> None:
    path = _inventory(tmp_path, ["m1"], "    pod_network_cidr: 10.244.0.0/33\n")
    with pytest.raises(UserError) as err:
        cluster_plan(load_inventory(str(path)))
    assert "pod_network_cidr" in (err.value.field or "")


def test_prepare_gives_the_playbook_its_variables(tmp_path: Path) -> None:
    path = _inventory(tmp_path, ["m1", "m2", "m3"], "    flannel_backend: host-gw\n")
    plan = cluster_plan(load_inventory(str(path)))
    cd, extra = prepare(plan, tmp_path / "cl")
    founders = "m1=https://10.0.0.1:2380,m2=https://10.0.0.2:2380,m3=https://10.0.0.3:2380"
    assert extra["etcd_bootstrap"]["m2"] == {"state": "new", "cluster": founders, "join": ""}
    assert extra["etcd_endpoints"].split(",") == [f"https://10.0.0.{i}:2379" for i in (1, 2, 3)]
    assert '"Type":"host-gw"' in extra["flannel_config"].replace(" ", "")
    assert all(Path(f["src"]).is_file() for f in extra["kubeform_agent_files"])
    assert extra["kubeform_pod_network"] == "10.244.0.0/16"
    for name in ("etcd-m1", "etcd-m3", "agent-n1", "admin", "ca"):
        assert (cd.pki_dir / f"{name}.crt").is_file()


def test_prepare_twice_keeps_certificates_and_cluster_yml_additions(tmp_path: Path) -> None:
    path = _inventory(tmp_path, ["m1"])
    plan = cluster_plan(load_inventory(str(path)))
    cd, _ = prepare(plan, tmp_path / "cl")
    first = (cd.pki_dir / "etcd-m1.crt").read_bytes()
    config = cd.path / "cluster.yml"
    data = yaml.safe_load(config.read_text())
    data["ssh_tunnel"] = "root@10.0.0.1"
    config.write_text(yaml.safe_dump(data))
    prepare(plan, tmp_path / "cl")
    assert (cd.pki_dir / "etcd-m1.crt").read_bytes() == first
    assert ClusterDir.load(tmp_path / "cl").ssh_tunnel == "root@10.0.0.1"


def test_a_grown_group_joins_after_the_recorded_members(tmp_path: Path) -> None:
    one = cluster_plan(load_inventory(str(_inventory(tmp_path, ["m1"], name="one.yml"))))
    cd, _ = prepare(one, tmp_path / "cl")
    assert membership_of(one, cd).joining == ()
    record_members(cd, ["m1"])  # what a successful up does
    three = cluster_plan(load_inventory(str(_inventory(tmp_path, ["m1", "m2", "m3"], name="three.yml"))))
    cd, extra = prepare(three, tmp_path / "cl")
    assert membership_of(three, cd).joining == ("m2", "m3")
    assert extra["etcd_bootstrap"]["m3"]["join"] == "https://10.0.0.1:2379,https://10.0.0.2:2379"
    # prepare records nobody new: members are recorded as they join.
    assert yaml.safe_load((cd.path / "cluster.yml").read_text())["etcd_members"] == ["m1"]


def test_a_shrunk_group_is_refused_naming_cluster_yml(tmp_path: Path) -> None:
    three = cluster_plan(load_inventory(str(_inventory(tmp_path, ["m1", "m2", "m3"], name="three.yml"))))
    cd, _ = prepare(three, tmp_path / "cl")
    record_members(cd, ["m1", "m2", "m3"])
    one = cluster_plan(load_inventory(str(_inventory(tmp_path, ["m1"], name="one.yml"))))
    with pytest.raises(UserError) as err:
        prepare(one, tmp_path / "cl")
    assert err.value.file == str(tmp_path / "cl" / "cluster.yml")
    assert "etcdctl member remove" in (err.value.hint or "")


def test_a_shrunk_group_can_still_be_reset(tmp_path: Path) -> None:
    three = cluster_plan(load_inventory(str(_inventory(tmp_path, ["m1", "m2", "m3"], name="three.yml"))))
    cd, _ = prepare(three, tmp_path / "cl")
    record_members(cd, ["m1", "m2", "m3"])
    one = cluster_plan(load_inventory(str(_inventory(tmp_path, ["m1"], name="one.yml"))))
    _, extra = prepare(one, tmp_path / "cl", resetting=True)  # `kubeform down`: no refusal
    assert extra["etcd_endpoints"] == "https://10.0.0.1:2379"


def test_a_plan_only_first_up_records_no_member(tmp_path: Path) -> None:
    plan = cluster_plan(load_inventory(str(_inventory(tmp_path, ["m1"]))))
    cd, extra = prepare(plan, tmp_path / "cl")
    assert yaml.safe_load((cd.path / "cluster.yml").read_text())["etcd_members"] == []
    assert extra["etcd_bootstrap"]["m1"]["state"] == "new"


def test_reset_deletes_host_gw_routes_into_the_pod_network() -> None:
    """host-gw routes go via eth0, not a device reset deletes; reset.yml removes them.

    A route left from a host-gw cluster to what became a host's subnet in the next cluster
    took its pods' replies (found by acceptance testing: down, then up with vxlan).
    """
    import yaml

    import kubeform

    reset = Path(kubeform.__file__).parent / "data" / "playbooks" / "reset.yml"
    tasks = [t for play in yaml.safe_load(reset.read_text()) for t in play.get("tasks", [])]
    cmds = [str(t["shell"]["cmd"]) for t in tasks if isinstance(t.get("shell"), dict)]
    assert any(
        "ip -4 route show root {{ kubeform_pod_network }}" in c and "ip route del" in c
        for c in cmds
    )


def test_cluster_yml_records_the_tunnel_fallback(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    plan = cluster_plan(
        load_inventory(str(_inventory(tmp_path, ["m1"], f"    ansible_ssh_private_key_file: {key}\n")))
    )
    cd, _ = prepare(plan, tmp_path / "cl")
    recorded = yaml.safe_load((cd.path / "cluster.yml").read_text())["ssh_tunnel_fallback"]
    assert recorded == {
        "name": "m1",
        "ansible_host": "10.0.0.1",
        "ansible_port": 22,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(key),
    }
