"""`up` records every host's connection vars in cluster.yml (``ssh_hosts``), so `kubeform
logs/exec` reach a pod's node over SSH as `up` did (kubeform/bootstrap/cluster_plan.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubeform.bootstrap.cluster_plan import HOSTS_KEY, cluster_plan, prepare
from kubeform.inventory.loader import load_inventory


def test_cluster_yml_records_every_hosts_connection(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    known = tmp_path / "known_hosts"
    inv = tmp_path / "inventory.yml"
    inv.write_text(
        "all:\n  vars:\n    ansible_user: root\n"
        f"    ansible_ssh_private_key_file: {key}\n    kubeform_known_hosts_file: {known}\n"
        "  hosts:\n    m1: {ansible_host: 10.0.0.1}\n    n1: {ansible_host: 10.0.0.2, ansible_port: 2222, ansible_user: ops}\n"
        "  children:\n    masters:\n      hosts:\n        m1:\n    etcd:\n      hosts:\n        m1:\n"
        "    nodes:\n      hosts:\n        n1:\n"
    )
    cd, _ = prepare(cluster_plan(load_inventory(str(inv))), tmp_path / "cl")
    recorded = yaml.safe_load((cd.path / "cluster.yml").read_text())[HOSTS_KEY]
    common = {"ansible_ssh_private_key_file": str(key), "kubeform_known_hosts_file": str(known)}
    assert recorded == {
        "m1": {"name": "m1", "ansible_host": "10.0.0.1", "ansible_port": 22, "ansible_user": "root", **common},
        "n1": {"name": "n1", "ansible_host": "10.0.0.2", "ansible_port": 2222, "ansible_user": "ops", **common},
    }
