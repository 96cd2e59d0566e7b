"""``kubeform top pods|nodes``: what the agents measured, in kubectl top's columns.

The figures are the ones the HorizontalPodAutoscaler acts on (kubeform.api.usage reads
both): a pod's ``status.usage`` (CPU rate over the agent's 15 s window, memory in use)
and a node's heartbeat (the whole host: /proc/stat and /proc/meminfo). As with
metrics-server, a pod appears once it has a CPU rate (15 s after its first sample), and
figures older than a minute are not shown (a node without them prints ``<unknown>``).
On a lab host (a systemd-nspawn machine) /proc/stat and /proc/meminfo are the whole
machine's, so each node shows the host's figures.

The tables are pure functions of the objects (tested with data); reading etcd is the edge.
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from kubeform.api import kinds, nodes, quantity, selectors, usage
from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.errors import UserError
from kubeform.store.printers import table

Obj = dict[str, Any]


def cpu_text(millis: int) -> str:
    return f"{millis}m"


def memory_text(size: int) -> str:
    return f"{size // (1024 * 1024)}Mi"


def _name(o: Obj) -> tuple[str, str]:
    meta = o.get("metadata") or {}
    return str(meta.get("namespace") or "default"), str(meta.get("name", ""))


def pods_table(
    pods: list[Obj], now: datetime.datetime, *, all_namespaces: bool, containers: bool, sort_by: str | None = None
) -> str | None:
    """kubectl top pod's table; None when no pod has figures yet."""
    rows: list[tuple[tuple[Any, ...], list[str]]] = []
    for pod in pods:
        u = usage.pod_usage(pod, now)
        if u is None or u.total.cpu_millis is None:
            continue
        ns, name = _name(pod)
        lead = [ns] if all_namespaces else []
        if containers:
            for cname in sorted(u.containers):
                ccpu, cmem = u.containers[cname].cpu_millis, u.containers[cname].memory_bytes or 0
                if ccpu is None:
                    continue
                ckey: tuple[Any, ...] = (-(ccpu if sort_by == "cpu" else cmem) if sort_by else 0, ns, name, cname)
                rows.append((ckey, [*lead, name, cname, cpu_text(ccpu), memory_text(cmem)]))
        else:
            cpu, mem = u.total.cpu_millis, u.total.memory_bytes or 0
            key = (-(cpu if sort_by == "cpu" else mem) if sort_by else 0, ns, name)
            rows.append((key, [*lead, name, cpu_text(cpu), memory_text(mem)]))
    if not rows:
        return None
    headers = (["NAMESPACE"] if all_namespaces else []) + (["POD", "NAME"] if containers else ["NAME"])
    headers += ["CPU(cores)", "MEMORY(bytes)"]
    return table(headers, [r for _, r in sorted(rows)])


def _allocatable(node: Obj, field: str) -> int:
    status = node.get("status") or {}
    value = (status.get("allocatable") or {}).get(field) or (status.get("capacity") or {}).get(field)
    if value is None:
        return 0
    try:
        return quantity.cpu_millis(value) if field == "cpu" else quantity.amount(value)
    except quantity.QuantityError:
        return 0


def nodes_table(node_objs: list[Obj], leases: dict[str, Obj], now: datetime.datetime, sort_by: str | None = None) -> str:
    """kubectl top node's table: CPU and memory in use and as a share of allocatable."""
    rows: list[tuple[tuple[Any, ...], list[str]]] = []
    for node in node_objs:
        name = _name(node)[1]
        u = usage.node_usage(leases.get(name), now)
        if u is None or u.total.cpu_millis is None:
            rows.append(((1, 0, name), [name, "<unknown>", "<unknown>", "<unknown>", "<unknown>"]))
            continue
        cpu, mem = u.total.cpu_millis, u.total.memory_bytes or 0
        cpu_all, mem_all = _allocatable(node, "cpu"), _allocatable(node, "memory")
        cpu_pct = f"{cpu * 100 // cpu_all}%" if cpu_all else "<unknown>"
        mem_pct = f"{mem * 100 // mem_all}%" if mem_all else "<unknown>"
        key = (0, -(cpu if sort_by == "cpu" else mem) if sort_by else 0, name)
        rows.append((key, [name, cpu_text(cpu), cpu_pct, memory_text(mem), mem_pct]))
    return table(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], [r for _, r in sorted(rows)])


# -- the edge: read etcd ---------------------------------------------------------------------
def _store(args: argparse.Namespace) -> Any:
    from kubeform.store.client import Store

    return Store.from_cluster(ClusterDir.find(getattr(args, "cluster", None)))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def cmd_top_pods(args: argparse.Namespace) -> int:
    store = _store(args)
    namespace = None if args.all_namespaces else (args.namespace or "default")
    pods = store.list(kinds.BY_KIND["Pod"], namespace)
    if args.selector:
        sel = selectors.parse(args.selector)
        pods = [p for p in pods if selectors.matches(sel, (p.get("metadata") or {}).get("labels"))]
    if args.names:
        pods = [p for p in pods if _name(p)[1] in args.names]
        missing = sorted(set(args.names) - {_name(p)[1] for p in pods})
        if missing:
            raise UserError(f'pods "{missing[0]}" not found')
    if not pods:
        print("No resources found" + ("" if args.all_namespaces else f" in {namespace} namespace") + ".")
        return 0
    out = pods_table(pods, _now(), all_namespaces=args.all_namespaces, containers=args.containers, sort_by=args.sort_by)
    if out is None:
        raise UserError("metrics not available yet", hint="an agent reports a pod's CPU 15 s after its containers start")
    print(out, end="")
    return 0


def cmd_top_nodes(args: argparse.Namespace) -> int:
    store = _store(args)
    leases = {key.rsplit("/", 1)[1]: o for key, o in store.items(nodes.LEASE_PREFIX)}
    node_objs = []
    for key, n in store.items(nodes.NODE_PREFIX):
        n.setdefault("metadata", {}).setdefault("name", key.rsplit("/", 1)[1])
        node_objs.append(n)
    if args.names:
        node_objs = [n for n in node_objs if _name(n)[1] in args.names]
        if not node_objs:
            raise UserError(f'nodes "{args.names[0]}" not found')
    if not node_objs:
        print("No resources found.")
        return 0
    print(nodes_table(node_objs, leases, _now(), sort_by=args.sort_by), end="")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("top", help="CPU and memory of pods and nodes, as the agents measure them")
    tsub = p.add_subparsers(dest="what", metavar="pods|nodes", required=True)
    for name, aliases, func in (("pods", ["pod", "po"], cmd_top_pods), ("nodes", ["node", "no"], cmd_top_nodes)):
        c = tsub.add_parser(name, aliases=aliases, help=f"CPU and memory of {name}")
        c.add_argument("names", nargs="*", metavar="NAME")
        c.add_argument("--sort-by", choices=("cpu", "memory"), help="largest first")
        c.add_argument("--cluster", metavar="DIR", help="cluster directory (default: $KUBEFORM_CLUSTER or ./.kubeform/*)")
        if name == "pods":
            c.add_argument("-n", "--namespace", help="namespace (default: default)")
            c.add_argument("-A", "--all-namespaces", action="store_true")
            c.add_argument("-l", "--selector", metavar="SELECTOR")
            c.add_argument("--containers", action="store_true", help="one line per container")
        c.set_defaults(func=func)
