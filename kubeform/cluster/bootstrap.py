"""What `kubeform up` decides on the operator's machine before any host is touched.

The playbooks (playbooks/site.yml) stay plain YAML a person can read and change; this
module supplies what they cannot compute themselves: the etcd membership (an odd
number of members), certificates from the cluster's CA kept in the cluster directory,
the flannel network config in flannel's exact format, and the list of agent files to
ship. The pure decisions (membership, variables) are separate from issuing certificates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubeform
from kubeform.cluster.clusterdir import CONFIG_FILE, DEFAULT_ROOT, ClusterDir
from kubeform.errors import UserError
from kubeform.inventory.model import Host, Inventory
from kubeform.network.flannel import render_network_config

PLAYBOOK_DIR = Path(kubeform.__file__).resolve().parent / "data" / "playbooks"


@dataclass(frozen=True)
class ClusterPlan:
    """The operator-side facts of a cluster, derived from the inventory alone."""

    name: str
    etcd: list[Host]
    hosts: list[Host]
    network: str
    backend: str

    @property
    def etcd_endpoints(self) -> list[str]:
        return [f"https://{h.address}:2379" for h in self.etcd]

    @property
    def etcd_initial_cluster(self) -> str:
        return ",".join(f"{h.name}=https://{h.address}:2380" for h in self.etcd)


def _setting(inventory: Inventory, name: str, default: str) -> str:
    """A cluster-wide setting: the first host's value of an inventory variable."""
    for host in inventory.hosts.values():
        if name in host.vars:
            return str(host.vars[name])
    return default


#: File names that say nothing about the cluster: use the directory's name instead.
_GENERIC_STEMS = {"", "inventory", "hosts", "site", "main", "all"}


def default_cluster_name(source: str) -> str:
    """The cluster's name when the inventory sets no ``cluster_name``.

    ``prod.yml`` names cluster ``prod``; a generic file name (``inventory.yml``,
    ``hosts``) takes its directory's name, so a lab's ``/var/lib/kubeform/lab/kfdev/
    inventory.yml`` becomes cluster ``kfdev`` and two labs do not share a directory.
    """
    path = Path(source)
    if path.is_dir():
        return path.resolve().name or "kubeform"
    stem = path.stem
    if stem.lower() in _GENERIC_STEMS:
        stem = path.resolve().parent.name
    return stem or "kubeform"


def cluster_plan(inventory: Inventory) -> ClusterPlan:
    """Membership and settings; refuses inventories that cannot form a healthy cluster."""
    etcd_names = inventory.groups.get("etcd", [])
    if not etcd_names:
        raise UserError(
            "no etcd group: list the etcd members (an odd number) under group `etcd`",
            file=inventory.source,
            field="etcd",
        )
    if len(etcd_names) % 2 == 0:
        raise UserError(
            f"the etcd group has {len(etcd_names)} members; etcd needs an odd number "
            "(1, 3 or 5) to keep a quorum when one fails",
            file=inventory.source,
            field="etcd",
        )
    name = _setting(inventory, "cluster_name", default_cluster_name(inventory.source))
    network = _setting(inventory, "pod_network_cidr", "10.244.0.0/16")
    backend = _setting(inventory, "flannel_backend", "vxlan")
    try:
        render_network_config(network, backend=backend)
    except ValueError as err:
        raise UserError(
            str(err), file=inventory.source, field="pod_network_cidr/flannel_backend"
        ) from None
    return ClusterPlan(
        name=name,
        etcd=[inventory.hosts[n] for n in etcd_names],
        hosts=list(inventory.hosts.values()),
        network=network,
        backend=backend,
    )


def agent_files() -> list[dict[str, str]]:
    """The agent's sources (stdlib only) and where they go on a host (/opt/kubeform)."""
    root = Path(kubeform.__file__).resolve().parent
    files = [{"src": str(root / "__init__.py"), "dest": "/opt/kubeform/kubeform/__init__.py"}]
    for src in sorted((root / "agent").glob("*.py")):
        files.append({"src": str(src), "dest": f"/opt/kubeform/kubeform/agent/{src.name}"})
    return files


def default_cluster_dir(name: str) -> Path:
    return DEFAULT_ROOT / name


def prepare(plan: ClusterPlan, cluster_dir: Path) -> tuple[ClusterDir, dict[str, Any]]:
    """Create/refresh the cluster directory and certificates; the playbook's extra vars.

    Idempotent: existing CA and certificates with unchanged names are reused, so a second
    `kubeform up` uploads nothing new.
    """
    tunnel: str | dict[str, Any] | None = None
    kept: dict[str, Any] = {}
    if (cluster_dir / CONFIG_FILE).is_file():
        # A person may have added ssh_tunnel (or other keys) to cluster.yml; keep them.
        try:
            old = ClusterDir.load(cluster_dir)
        except UserError:
            old = None
        if old is not None:
            tunnel, kept = old.ssh_tunnel, dict(old.extra)
    cd = ClusterDir.create(
        cluster_dir, plan.name, plan.etcd_endpoints, ssh_tunnel=tunnel, extra=kept
    )
    for host in plan.etcd:
        cd.issue(
            f"etcd-{host.name}",
            sorted({host.address, host.name, "127.0.0.1", "localhost"}),
            client=True,
            server=True,
        )
    for host in plan.hosts:
        cd.issue(f"agent-{host.name}", [host.name], client=True, server=False)
    extra = {
        "kubeform_cluster_name": plan.name,
        "kubeform_pki_dir": str(cd.pki_dir),
        "etcd_initial_cluster": plan.etcd_initial_cluster,
        "etcd_endpoints": ",".join(plan.etcd_endpoints),
        "flannel_config": render_network_config(plan.network, backend=plan.backend),
        "kubeform_agent_files": agent_files(),
    }
    return cd, extra
