"""What `kubeform up` decides on the operator's machine before any host is touched.

The playbooks (playbooks/site.yml) stay plain YAML a person can read and change; this
module supplies what they cannot compute themselves: the etcd membership (an odd
number of members, and which of them join a running cluster), certificates from the cluster's CA kept in the cluster directory,
the flannel network config in flannel's exact format, and the list of agent files to
ship. The pure decisions (membership, variables) are separate from issuing certificates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubeform
from kubeform.bootstrap.clusterdir import CONFIG_FILE, DEFAULT_ROOT, ClusterDir
from kubeform.errors import UserError
from kubeform.images.connect import REGISTRY_KEY, REGISTRY_PORT
from kubeform.inventory.model import Host, Inventory
from kubeform.network.flannel import render_network_config
from kubeform.store.client import FALLBACK_KEY

PLAYBOOK_DIR = Path(kubeform.__file__).resolve().parent / "data" / "playbooks"

#: cluster.yml key: the etcd members known to run (names, in the order they joined).
MEMBERS_KEY = "etcd_members"
#: cluster.yml: every host's connection vars, for `kubeform logs/exec` (SSH to a pod's node)
HOSTS_KEY = "ssh_hosts"


@dataclass(frozen=True)
class ClusterPlan:
    """The operator-side facts of a cluster, derived from the inventory alone."""

    name: str
    etcd: list[Host]
    hosts: list[Host]
    network: str
    backend: str
    #: the host running the cluster image registry (the first master), None when off
    registry: Host | None = None

    @property
    def registry_address(self) -> str:
        """host:port of the cluster registry, as agent.json and cluster.yml name it ('' = none)."""
        return f"{self.registry.address}:{REGISTRY_PORT}" if self.registry else ""

    @property
    def etcd_endpoints(self) -> list[str]:
        return [f"https://{h.address}:2379" for h in self.etcd]


@dataclass(frozen=True)
class EtcdMembership:
    """Who runs etcd already and who joins, decided from cluster.yml and the inventory.

    ``members`` are the members cluster.yml records (or, for a new cluster, the whole
    group: they start together with ``--initial-cluster-state=new``). ``joining`` are
    the group's other hosts, in inventory order: each is added with ``etcdctl member
    add`` and started (``--initial-cluster-state=existing``) before the next, because
    adding two members before either runs loses the quorum (1 started of 3).
    """

    members: tuple[str, ...]
    joining: tuple[str, ...]


def recorded_members(extra: Mapping[str, Any], endpoints: Sequence[str], etcd: Sequence[Host]) -> list[str]:
    """The members a cluster directory knows; ``[]`` when none has been started yet.

    cluster.yml made before members were recorded has only the client endpoints: those
    name the members (an endpoint of no etcd host is kept as the URL itself, so the
    shrink refusal can name it).
    """
    if MEMBERS_KEY in extra:
        value = extra[MEMBERS_KEY]
        return [str(v) for v in value] if isinstance(value, list) else []
    by_endpoint = {f"https://{h.address}:2379": h.name for h in etcd}
    return [by_endpoint.get(e, e) for e in endpoints]


def etcd_membership(plan: ClusterPlan, recorded: Sequence[str], config: str) -> EtcdMembership:
    """Members and joiners; refuses a group that lost members (shrinking is done by hand)."""
    group = [h.name for h in plan.etcd]
    if not recorded:
        return EtcdMembership(tuple(group), ())
    removed = [m for m in recorded if m not in group]
    if removed:
        names = ", ".join(removed)
        raise UserError(
            f"etcd member(s) {names} are no longer in the etcd group; kubeform up adds "
            "members but does not remove them",
            file=config,
            field=MEMBERS_KEY,
            hint="remove a member by hand: on a remaining member run `etcdctl member list` "
            "and `etcdctl member remove <ID>` (ETCDCTL_API=3, with --endpoints, --cacert, "
            "--cert, --key of /etc/kubeform/pki), stop kubeform-etcd on the removed host and "
            f"delete its /var/lib/kubeform/etcd, then drop it from {MEMBERS_KEY} in cluster.yml "
            "(or put it back in the etcd group)",
        )
    return EtcdMembership(tuple(recorded), tuple(n for n in group if n not in recorded))


def etcd_bootstrap(plan: ClusterPlan, membership: EtcdMembership) -> dict[str, dict[str, str]]:
    """Per member, what its first start needs: state, initial cluster, and whom to join.

    These settings only matter while the data directory is empty, so the playbook
    writes them to a file of their own (never rewritten) instead of the unit: growing
    the cluster does not touch the running members' units. ``join`` (client endpoints
    of the members running before this one) is empty for members that found the cluster.
    """
    hosts = {h.name: h for h in plan.etcd}

    def peers(names: Sequence[str]) -> str:
        return ",".join(f"{n}=https://{hosts[n].address}:2380" for n in names)

    def clients(names: Sequence[str]) -> str:
        return ",".join(f"https://{hosts[n].address}:2379" for n in names)

    out = {
        n: {"state": "new", "cluster": peers(membership.members), "join": ""}
        for n in membership.members
    }
    for i, name in enumerate(membership.joining):
        before = [*membership.members, *membership.joining[:i]]
        out[name] = {"state": "existing", "cluster": peers([*before, name]), "join": clients(before)}
    return out


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
    masters = inventory.groups.get("masters", [])
    registry_on = _setting(inventory, "cluster_registry", "true").lower() in ("true", "yes", "on", "1")
    return ClusterPlan(
        name=name,
        etcd=[inventory.hosts[n] for n in etcd_names],
        hosts=list(inventory.hosts.values()),
        network=network,
        backend=backend,
        registry=inventory.hosts[masters[0]] if registry_on and masters else None,
    )


#: Host-side packages shipped to /opt/kubeform (stdlib only, Python 3.6): the shared API
#: model, the node agent and the reconciler, each package with its subpackages.
HOST_PACKAGES = ("api", "agent", "reconciler")


def agent_files() -> list[dict[str, str]]:
    """The host-side sources and where they go on a host (/opt/kubeform/kubeform/...)."""
    root = Path(kubeform.__file__).resolve().parent
    files = [
        {"src": str(root / name), "dest": f"/opt/kubeform/kubeform/{name}"}
        for name in ("__init__.py", "errors.py")
    ]
    for package in HOST_PACKAGES:
        for src in sorted((root / package).rglob("*.py")):
            rel = src.relative_to(root).as_posix()
            files.append({"src": str(src), "dest": f"/opt/kubeform/kubeform/{rel}"})
    return files


def code_digest() -> str:
    """sha256 of the host-side code agent_files() ships (paths and contents).

    The reconciler play writes it next to the code and restarts the reconciler when it
    changes: the code is copied by the agent play, whose handler restarts only the agent.
    """
    digest = hashlib.sha256()
    for f in agent_files():
        digest.update(f["dest"].encode() + b"\0" + Path(f["src"]).read_bytes() + b"\0")
    return digest.hexdigest()


def reconciler_hosts(plan: ClusterPlan) -> list[Host]:
    """The masters: each runs a reconciler (one leads) with its own client certificate."""
    return [h for h in plan.hosts if "masters" in h.groups]


def agent_dirs() -> list[str]:
    """The directories agent_files() needs on a host, parents first."""
    dirs = {"/opt/kubeform", "/opt/kubeform/kubeform"}
    for f in agent_files():
        parent = f["dest"].rsplit("/", 1)[0]
        while parent not in dirs:
            dirs.add(parent)
            parent = parent.rsplit("/", 1)[0]
    return sorted(dirs)


def tunnel_fallback(host: Host) -> dict[str, Any]:
    """How the CLI reaches a host through SSH: its connection vars, as the inventory gave them.

    Recorded in cluster.yml by `up`: the first etcd member's as ``ssh_tunnel_fallback``
    (used only when no etcd endpoint answers, e.g. the operator sits outside the hosts'
    network) and every host's under ``ssh_hosts`` (`kubeform logs/exec` reach a pod's node).
    """
    conn: dict[str, Any] = {
        "name": host.name,
        "ansible_host": host.address,
        "ansible_port": host.port,
        "ansible_user": host.user,
    }
    if host.key_file:
        conn["ansible_ssh_private_key_file"] = str(Path(host.key_file).expanduser().resolve())
    if host.known_hosts_file:
        conn["kubeform_known_hosts_file"] = str(Path(host.known_hosts_file).expanduser().resolve())
    return conn


def default_cluster_dir(name: str) -> Path:
    return DEFAULT_ROOT / name


def prepare(
    plan: ClusterPlan, cluster_dir: Path, *, resetting: bool = False
) -> tuple[ClusterDir, dict[str, Any]]:
    """Create/refresh the cluster directory and certificates; the playbook's extra vars.

    Idempotent: existing CA and certificates with unchanged names are reused, so a second
    `kubeform up` uploads nothing new. cluster.yml keeps the recorded etcd members as they
    were: ``record_members`` adds the new ones once they run.
    """
    tunnel: str | dict[str, Any] | None = None
    kept: dict[str, Any] = {MEMBERS_KEY: []}
    if (cluster_dir / CONFIG_FILE).is_file():
        # A person may have added ssh_tunnel (or other keys) to cluster.yml; keep them.
        try:
            old = ClusterDir.load(cluster_dir)
        except UserError:
            old = None
        if old is not None:
            tunnel, kept = old.ssh_tunnel, dict(old.extra)
            kept[MEMBERS_KEY] = recorded_members(old.extra, old.endpoints, plan.etcd)
    kept[FALLBACK_KEY] = tunnel_fallback(plan.etcd[0])
    kept[HOSTS_KEY] = {h.name: tunnel_fallback(h) for h in plan.hosts}
    # `kubeform image push/ls` find the registry here (site.yml runs it on the first master).
    if plan.registry_address:
        kept[REGISTRY_KEY] = plan.registry_address
    else:
        kept.pop(REGISTRY_KEY, None)
    # A reset removes whatever the inventory names, whether or not the group shrank.
    recorded = [h.name for h in plan.etcd] if resetting else kept[MEMBERS_KEY]
    membership = etcd_membership(plan, recorded, str(cluster_dir / CONFIG_FILE))
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
    for host in reconciler_hosts(plan):
        cd.issue(f"reconciler-{host.name}", [host.name], client=True, server=False)
    for host in plan.hosts:
        cd.issue(f"agent-{host.name}", [host.name], client=True, server=False)
    if plan.registry is not None:
        reg = plan.registry
        cd.issue(
            f"registry-{reg.name}",
            sorted({reg.address, reg.name, "127.0.0.1", "localhost"}),
            client=False,
            server=True,
        )
    extra = {
        "kubeform_cluster_name": plan.name,
        "kubeform_pki_dir": str(cd.pki_dir),
        "etcd_bootstrap": etcd_bootstrap(plan, membership),
        "etcd_endpoints": ",".join(plan.etcd_endpoints),
        "flannel_config": render_network_config(plan.network, backend=plan.backend),
        # reset.yml deletes the routes into it (host-gw routes do not go with a device).
        "kubeform_pod_network": plan.network,
        # the reconciler play restarts the reconciler when the shipped code changes
        "kubeform_code_digest": code_digest(),
        "kubeform_agent_files": agent_files(),
        "kubeform_agent_dirs": agent_dirs(),
        # host:port of the cluster registry ('' = none): the registry play and the nodes'
        # certs.d directories (the agent's config names the same address).
        "kubeform_registry": plan.registry_address,
    }
    return cd, extra


def membership_of(plan: ClusterPlan, cd: ClusterDir) -> EtcdMembership:
    """The membership ``prepare`` planned with (cluster.yml holds the recorded members)."""
    recorded = recorded_members(cd.extra, cd.endpoints, plan.etcd)
    return etcd_membership(plan, recorded, str(cd.path / CONFIG_FILE))


def record_members(cd: ClusterDir, names: Sequence[str]) -> None:
    """Write the members that run now to cluster.yml (after a successful apply or join)."""
    if cd.extra.get(MEMBERS_KEY) != list(names):
        cd.extra[MEMBERS_KEY] = list(names)
        cd.save()
