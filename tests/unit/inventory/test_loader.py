"""Inventory loading, driven by files: each case under tests/data/inventory/parse/ is an
inventory (with its group_vars/host_vars) and an expected.yml with the hosts, their
groups and merged vars, the groups and children; each broken inventory under
tests/data/inventory/errors/ must give exactly the one located message in cases.yml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.inventory import Host, load_inventory

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "inventory"
PARSE_CASES = sorted(p.parent.name for p in (DATA / "parse").glob("*/expected.yml"))
ERROR_CASES: list[dict[str, str]] = yaml.safe_load((DATA / "errors" / "cases.yml").read_text())


def _plain(value: Any) -> Any:
    """LineDict/LineList -> dict/list so comparisons show clean diffs."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _property(host: Host, name: str) -> Any:
    value = getattr(host, name)
    return sorted(value) if isinstance(value, set) else value


@pytest.mark.parametrize("case", PARSE_CASES)
def test_parse(case: str) -> None:
    case_dir = DATA / "parse" / case
    expected = yaml.safe_load((case_dir / "expected.yml").read_text())
    inventory = load_inventory(case_dir / expected["source"])
    assert list(inventory.hosts) == list(expected["hosts"]), "hosts in inventory order"
    for name, want in expected["hosts"].items():
        host = inventory.hosts[name]
        assert host.groups == want["groups"], name
        assert _plain(host.vars) == want["vars"], name
    assert _plain(inventory.groups) == expected["groups"]
    assert list(inventory.groups) == list(expected["groups"])
    assert _plain(inventory.children) == expected["children"]
    for name, props in expected.get("properties", {}).items():
        host = inventory.hosts[name]
        assert {k: _property(host, k) for k in props} == props, name


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["source"] for c in ERROR_CASES])
def test_error_names_file_line_field(case: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA / "errors")
    with pytest.raises(UserError) as info:
        load_inventory(case["source"])
    assert str(info.value) == case["error"]


def test_source_is_the_given_path() -> None:
    path = DATA / "parse" / "ansible-docs-ini" / "hosts"
    assert load_inventory(str(path)).source == str(path)


def test_hosts_do_not_share_mutable_vars() -> None:
    inventory = load_inventory(DATA / "parse" / "kubespray-sample" / "inventory.ini")
    inventory.hosts["node1"].vars["upstream_dns_servers"].append("1.1.1.1")
    assert inventory.hosts["node2"].vars["upstream_dns_servers"] == ["8.8.8.8", "8.8.4.4"]


def test_every_alias_group_matches_its_membership() -> None:
    """h in groups[g] exactly when g in h.groups, aliases included."""
    for case in PARSE_CASES:
        expected = yaml.safe_load((DATA / "parse" / case / "expected.yml").read_text())
        inventory = load_inventory(DATA / "parse" / case / expected["source"])
        for group, members in inventory.groups.items():
            for host in inventory.hosts.values():
                assert (host.name in members) == (group in host.groups), (case, group, host.name)


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("hosts", "all:\n  hosts:\n", "yaml"),
        ("hosts", "---\nall: {}\n", "yaml"),
        ("hosts", "# c\n\nweb:\n  hosts:\n", "yaml"),
        ("hosts", "[web]\nw1\n", "ini"),
        ("hosts", "w1:2222 a=1\n", "ini"),
        ("hosts", "w1\nw2\n", "ini"),
        ("inv.yaml", "[web]\n", "yaml"),
        ("inv.cfg", "all:\n", "ini"),
        ("inv.txt", "", "ini"),
    ],
)
def test_detect_format(name: str, text: str, fmt: str) -> None:
    from kubeform.inventory.loader import detect_format

    assert detect_format(Path(name), text) == fmt


def test_schema_is_shipped_and_linked() -> None:
    """One source of truth: the repository's schemas/ entry points at the packaged file."""
    from kubeform.inventory.schema import inventory_schema

    root = Path(__file__).resolve().parents[3]
    linked = root / "schemas" / "inventory.schema.json"
    packaged = root / "kubeform" / "data" / "schemas" / "inventory.schema.json"
    assert linked.resolve() == packaged.resolve()
    assert inventory_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_production_example() -> None:
    """inventory/example-production.yml: 3 masters running etcd, 3 nodes, all via SSH."""
    root = Path(__file__).resolve().parents[3]
    inventory = load_inventory(root / "inventory" / "example-production.yml")
    assert inventory.groups["masters"] == ["master1", "master2", "master3"]
    assert inventory.groups["etcd"] == inventory.groups["masters"]
    assert inventory.groups["nodes"] == ["node1", "node2", "node3"]
    assert inventory.groups["kube_control_plane"] == inventory.groups["masters"]
    for host in inventory.hosts.values():
        assert host.connection == "ssh" and host.become and host.known_hosts_file


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (Path(__file__).resolve().parents[3] / "inventory").glob("*.yml")),
)
def test_shipped_inventories_load(name: str) -> None:
    root = Path(__file__).resolve().parents[3]
    inventory = load_inventory(root / "inventory" / name)
    assert inventory.groups["masters"] and inventory.groups["etcd"] and inventory.groups["nodes"]


def test_docs_examples_load(tmp_path: Path) -> None:
    """The inventories shown in docs/inventory.md load and mean what the text says."""
    import re

    root = Path(__file__).resolve().parents[3]
    text = (root / "docs" / "inventory.md").read_text()
    blocks = re.findall(r"```(ini|yaml)\n(.*?)```", text, re.S)
    loaded = {}
    for kind, body in blocks:
        if kind == "yaml" and not body.startswith("all:"):
            continue
        path = tmp_path / f"{kind}.{'ini' if kind == 'ini' else 'yml'}"
        path.write_text(body)
        loaded[kind] = load_inventory(path)
    assert loaded["yaml"].groups["etcd"] == ["master1"]
    assert loaded["yaml"].groups["nodes"] == ["node1", "node2", "node3"]
    assert loaded["ini"].hosts["jumpbox"].port == 2222
    assert loaded["ini"].groups["ungrouped"] == ["jumpbox"]
    assert loaded["ini"].hosts["node1"].vars["node_labels"] == {"disk": "ssd"}


def test_connection_vars_may_be_templates(tmp_path: Path) -> None:
    """Ansible inventories template connection vars; the engine renders them later."""
    path = tmp_path / "inv.yml"
    path.write_text(
        "all:\n  vars:\n    ansible_port: '{{ ssh_port }}'\n    ansible_become: '{{ use_sudo }}'\n"
        "  hosts:\n    h1:\n"
    )
    host = load_inventory(path).hosts["h1"]
    assert host.vars["ansible_port"] == "{{ ssh_port }}"


def test_crlf_and_bom(tmp_path: Path) -> None:
    """Inventories edited on Windows load the same."""
    path = tmp_path / "hosts"
    path.write_bytes(b"\xef\xbb\xbf[web]\r\nw1 ansible_port=2222\r\n\r\n[web:vars]\r\nx = 1\r\n")
    inventory = load_inventory(path)
    assert inventory.groups["web"] == ["w1"]
    assert inventory.hosts["w1"].vars == {"x": 1, "ansible_port": 2222}


def test_empty_inventory(tmp_path: Path) -> None:
    for name in ("empty.yml", "empty.ini"):
        (tmp_path / name).write_text("# nothing yet\n")
        inventory = load_inventory(tmp_path / name)
        assert inventory.hosts == {} and inventory.groups["all"] == []
