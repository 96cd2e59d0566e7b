"""Verbs apply, diff, get, describe, delete, scale, label, annotate, create: desired state in etcd.

kubectl's verbs and output shapes, so a Kubernetes user is at home; the cluster is found
through the cluster directory (``--cluster DIR``, ``$KUBEFORM_CLUSTER`` or the only one
under ./.kubeform), so the same commands serve the lab and a real cluster.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kubeform.api import deletion, kinds, nodes, selectors, syntax
from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.errors import UserError, shorten
from kubeform.store import allocation, applier, manifest_refs, output_formats, plan, pod_deletion
from kubeform.store import printers as render
from kubeform.store.client import Store
from kubeform.store.manifests import Doc, load_sources

Obj = dict[str, Any]


# -- shared plumbing -------------------------------------------------------------------
def _connect(args: argparse.Namespace) -> tuple[ClusterDir, Store]:
    cd = ClusterDir.find(getattr(args, "cluster", None))
    return cd, Store.from_cluster(cd)


def _cidr(cd: ClusterDir) -> str:
    value = cd.extra.get("service_cidr")
    return str(value) if value else allocation.DEFAULT_SERVICE_CIDR


def _common(p: argparse.ArgumentParser, *, namespace: bool = True) -> None:
    p.add_argument("--cluster", metavar="DIR", help="cluster directory (default: $KUBEFORM_CLUSTER or ./.kubeform/*)")
    if namespace:
        p.add_argument("-n", "--namespace", help="namespace (default: default)")


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _split_ref(args_kind: str, names: Sequence[str]) -> list[tuple[kinds.Kind, str | None]]:
    """``KIND NAME...``, ``KIND/NAME ...`` or ``KIND`` as (kind, name|None) pairs."""
    if "/" in args_kind:
        out: list[tuple[kinds.Kind, str | None]] = []
        for ref in (args_kind, *names):
            if "/" not in ref:
                raise UserError(f"expected KIND/NAME, got {ref!r}")
            k, n = ref.split("/", 1)
            out.append((kinds.resolve(k), n))
        return out
    result: list[tuple[kinds.Kind, str | None]] = []
    for k in args_kind.split(","):
        kind = kinds.resolve(k)
        if names:
            result.extend((kind, n) for n in names)
        else:
            result.append((kind, None))
    return result


def _ns(args: argparse.Namespace) -> str:
    return str(getattr(args, "namespace", None) or "default")


def _list(store: Store, kind: kinds.Kind, namespace: str | None) -> list[Obj]:
    if kind.kind == "Node":
        return _nodes(store)
    return store.list(kind, namespace)


def _nodes(store: Store) -> list[Obj]:
    leases = {key.rsplit("/", 1)[1]: o for key, o in store.items(nodes.LEASE_PREFIX)}
    now = _now()
    out = []
    for key, n in store.items(nodes.NODE_PREFIX):
        name = key.rsplit("/", 1)[1]
        n.setdefault("metadata", {}).setdefault("name", name)
        out.append(nodes.node_view(n, leases.get(name), now))
    return out


def _get_one(store: Store, kind: kinds.Kind, namespace: str, name: str) -> Obj:
    if kind.kind == "Node":
        found = [n for n in _nodes(store) if n.get("metadata", {}).get("name") == name]
        obj = found[0] if found else None
    else:
        obj = store.get(kind, namespace, name)
    if obj is None:
        where = f" in namespace {namespace}" if kind.namespaced else ""
        raise UserError(f'{kind.qualified} "{name}" not found{where}')
    return obj


# -- apply / diff ------------------------------------------------------------------------
def _load_and_validate(args: argparse.Namespace) -> list[tuple[Doc, kinds.Kind]]:
    docs = load_sources(args.filename)
    items, warnings = applier.validate_docs(docs, strict=args.strict, default_namespace=getattr(args, "namespace", None))
    for w in warnings:
        _err(w)
    return items


def _consequences(store: Store, planned: list[applier.Planned]) -> list[str]:
    """What the changed objects set in motion (store/consequences.py), for diff and apply."""
    changed = [(p.live, p.stored) for p in planned if p.outcome != plan.UNCHANGED]
    if not changed:
        return []
    from kubeform.store import consequences  # the scheduler: only for the verbs that preview

    return consequences.consequences(changed, consequences.view_of(store, _now()))


def _print_consequences(lines: list[str]) -> None:
    if lines:
        print("what the cluster will do:")
        for line in lines:
            print(f"  {line}")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def cmd_apply(args: argparse.Namespace) -> int:
    items = _load_and_validate(args)
    cd, store = _connect(args)
    if args.dry_run or (_interactive() and not args.yes):
        planned = applier.plan_all(store, items, service_cidr=_cidr(cd))
        applier.check_sizes(planned)
        suffix = " (dry run)" if args.dry_run else ""
        for p in planned:
            print(f"{p.ref} {p.outcome}{suffix}")
        _print_consequences(_consequences(store, planned))
        if args.dry_run:
            return 0
        if all(p.outcome == plan.UNCHANGED for p in planned):
            return 0
        if input("Apply? [y/N] ").strip().lower() not in ("y", "yes"):
            _err("nothing applied")
            return 1
    applier.apply_docs(store, items, service_cidr=_cidr(cd), report=lambda p: print(f"{p.ref} {p.outcome}", flush=True))
    return 0


def _print_diff(text: str) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.syntax import Syntax

        # rich ends the block with a newline of its own: drop ours, or a blank line follows
        Console().print(Syntax(text.rstrip("\n"), "diff", theme="ansi_dark", background_color="default"))
    else:
        sys.stdout.write(text)


def cmd_diff(args: argparse.Namespace) -> int:
    try:
        items = _load_and_validate(args)
        cd, store = _connect(args)
        planned = applier.plan_all(store, items, service_cidr=_cidr(cd))
    except UserError as err:
        _err(f"kubeform: error: {err}")
        return 2
    counts = {plan.CREATED: 0, plan.CONFIGURED: 0, plan.UNCHANGED: 0}
    key = cd.secret_digest_key()
    for p in planned:
        counts[p.outcome] += 1
        text = render.diff_text(
            plan.strip_volatile(p.live), p.stored, p.ref, show_secrets=args.show_secrets, digest_key=key
        )
        if text:
            _print_diff(text)
    changed = counts[plan.CREATED] + counts[plan.CONFIGURED]
    _print_consequences(_consequences(store, planned))
    summary = (
        f"{counts[plan.CREATED]} to create, {counts[plan.CONFIGURED]} to change, "
        f"{counts[plan.UNCHANGED]} unchanged"
    )
    print(("no differences: " if not changed else "") + summary, file=sys.stderr if not changed else sys.stdout)
    return 1 if changed else 0


# -- get / describe ----------------------------------------------------------------------
def _output(
    objs: list[Obj], kind_list: list[kinds.Kind], args: argparse.Namespace, single: bool, digest_key: bytes | None,
    *, with_kind: bool = False,
) -> None:
    """Print ``objs`` in the ``-o`` format; ``with_kind``: names as ``kind/name`` (several
    kinds asked for, or ``all``, as kubectl prints them)."""
    fmt, arg = output_formats.parse(args.output)
    if fmt in ("yaml", "json", "jsonpath", "custom-columns"):
        # canonical: stable key order (apiVersion, kind, metadata, ..., then sorted), not
        # the order fields happened to be merged in by defaults and the store. Only here:
        # tables never show whole objects, and `get pods -A` must stay fast.
        shown = [render.canonical(render.mask(o, args.show_secrets, digest_key) or o) for o in objs]
        if fmt == "jsonpath":
            sys.stdout.write(output_formats.jsonpath_text(arg, shown, single))
            return
        if fmt == "custom-columns":
            sys.stdout.write(output_formats.custom_columns(arg, shown, headers=not getattr(args, "no_headers", False)))
            return
        data: Any = shown[0] if single and len(shown) == 1 else output_formats.list_of(shown)
        sys.stdout.write(render.to_yaml(data) if fmt == "yaml" else render.to_json(data))
        return
    if fmt == "name":
        sys.stdout.write(output_formats.names(objs, {k.kind: k.qualified for k in kinds.KINDS}))
        return
    now = _now()
    first = True
    options = render.TableOptions(
        label_columns=tuple(k for v in getattr(args, "label_columns", None) or [] for k in v.split(",") if k),
        show_labels=bool(getattr(args, "show_labels", False)),
        no_headers=bool(getattr(args, "no_headers", False)),
    )
    for kind in kind_list:
        of_kind = [o for o in objs if o.get("kind") == kind.kind]
        if not of_kind:
            continue
        if not first:
            print()
        first = False
        if kind.kind == "Event":  # kubectl's own layout: LAST SEEN first, no NAME or AGE
            all_ns = args.all_namespaces and kind.namespaced
            text = render.events_table(of_kind, wide=fmt == "wide", all_namespaces=all_ns, now=now,
                                       keep_order=bool(getattr(args, "sort_by", None)))
            sys.stdout.write("".join(text.splitlines(keepends=True)[1:]) if options.no_headers else text)
            continue
        sys.stdout.write(
            render.get_table(kind.kind, of_kind, wide=fmt == "wide", all_namespaces=args.all_namespaces and kind.namespaced,
                             now=now, name_prefix=f"{kind.qualified}/" if with_kind else "", options=options)
        )


#: What ``get all`` lists: kubectl's "all" category, in its order.
ALL = ("pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "statefulsets",
       "horizontalpodautoscalers", "cronjobs", "jobs")


def _from_files(args: argparse.Namespace, verb: str) -> list[manifest_refs.Ref]:
    """``-f FILE|DIR``: the objects the manifests name (kubectl's ``get|describe -f``)."""
    if args.kind or args.names:
        raise UserError(f"give either -f FILE or KIND NAME to {verb}, not both")
    return manifest_refs.refs_of(load_sources(args.filename), getattr(args, "namespace", None))


def _not_found(ref: manifest_refs.Ref) -> str:
    """kubectl's line for a manifest's object that is not stored (it goes on with the rest)."""
    return f'Error from server (NotFound): {ref.kind.resource} "{ref.name}" not found'


def _get_files(args: argparse.Namespace) -> int:
    refs = _from_files(args, "get")
    if args.watch or args.watch_only:
        raise UserError("get -f does not watch", hint="use get KIND NAME -w")
    cd, store = _connect(args)
    objs: list[Obj] = []
    kind_list: list[kinds.Kind] = []
    rc = 0
    for ref in refs:
        try:
            obj = _get_one(store, ref.kind, ref.namespace or "default", ref.name)
        except UserError:
            _err(_not_found(ref))
            rc = 1
            continue
        objs.append(obj)
        if ref.kind not in kind_list:
            kind_list.append(ref.kind)
    if args.sort_by:
        objs.sort(key=render.sort_key(args.sort_by))
    if objs:
        all_ns = len({o.get("metadata", {}).get("namespace") for o in objs if o.get("metadata", {}).get("namespace")}) > 1
        shown = argparse.Namespace(**{**vars(args), "all_namespaces": args.all_namespaces or all_ns})
        _output(objs, kind_list, shown, len(refs) == 1, cd.secret_digest_key(), with_kind=len(kind_list) > 1)
    return rc


def cmd_get(args: argparse.Namespace) -> int:
    output_formats.parse(args.output)  # a bad -o or --sort-by fails before connecting
    order = render.sort_key(args.sort_by) if args.sort_by else None
    if args.filename:
        return _get_files(args)
    if not args.kind:
        raise UserError("name what to get: KIND [NAME...], KIND/NAME or -f FILE")
    every = args.kind == "all" or args.kind.split(",").count("all") > 0
    if every:
        if args.names:
            raise UserError("get all takes no names", hint="use get KIND NAME")
        rest = [k for k in args.kind.split(",") if k != "all"]
        refs: list[tuple[kinds.Kind, str | None]] = [(kinds.resolve(k), None) for k in (*ALL, *rest)]
    else:
        refs = _split_ref(args.kind, args.names)
    cd, store = _connect(args)
    sel = selectors.parse(args.selector) if args.selector else None
    ns = None if args.all_namespaces else _ns(args)
    objs: list[Obj] = []
    kind_list: list[kinds.Kind] = []
    single = all(n is not None for _, n in refs) and len(refs) == 1
    for kind, name in refs:
        if kind not in kind_list:
            kind_list.append(kind)
        if name is not None:
            objs.append(_get_one(store, kind, ns or "default", name))
            continue
        items = _list(store, kind, ns if kind.namespaced else None)
        items.sort(key=lambda o: (o.get("metadata", {}).get("namespace", ""), o.get("metadata", {}).get("name", "")))
        if sel is not None:
            items = [o for o in items if selectors.matches(sel, o.get("metadata", {}).get("labels"))]
        objs.extend(items)
    if order is not None:
        objs.sort(key=order)  # stable: each kind's table keeps the new order
    if args.watch or args.watch_only:
        return _watch(store, refs, ns, sel, objs, args)
    if not objs and output_formats.parse(args.output)[0] in (*output_formats.TABLE_FORMATS, "name"):
        where = "" if args.all_namespaces or not any(k.namespaced for k in kind_list) else f" in {ns} namespace"
        _err(f"No resources found{where}.")
        return 0
    _output(objs, kind_list, args, single, cd.secret_digest_key(), with_kind=every or len(kind_list) > 1)
    return 0


def watch_changes(seen: dict[str, str], objs: Sequence[Obj]) -> tuple[list[Obj], dict[str, str]]:
    """The objects new or changed since ``seen`` (uid/name -> fingerprint), and the new
    fingerprints: what ``get -w`` prints a row for (kubectl prints one per change)."""
    import json

    now: dict[str, str] = {}
    changed = []
    for o in objs:
        meta = o.get("metadata") or {}
        key = f"{meta.get('namespace', '')}/{meta.get('name')}/{meta.get('uid', '')}"
        now[key] = json.dumps(o, sort_keys=True, default=str)
        if seen.get(key) != now[key]:
            changed.append(o)
    return changed, now


def _watch(
    store: Store, refs: list[tuple[kinds.Kind, str | None]], ns: str | None, sel: Any, objs: list[Obj],
    args: argparse.Namespace,
) -> int:
    """``get -w``: the table, then a row each time an object is created or changes (polled
    once a second, as a list of the kind is one etcd range read); until Ctrl-C."""
    import time

    fmt, _ = output_formats.parse(args.output)
    kinds_asked = {k for k, _ in refs}
    if len(kinds_asked) != 1 or fmt not in output_formats.TABLE_FORMATS:
        raise UserError("--watch works on one kind, shown as a table (-o wide too)")
    kind = next(iter(kinds_asked))
    names = {n for _, n in refs if n is not None}
    all_ns = bool(args.all_namespaces and kind.namespaced)

    def current() -> list[Obj]:
        items = _list(store, kind, ns if kind.namespaced else None)
        items = [o for o in items if not names or (o.get("metadata") or {}).get("name") in names]
        if sel is not None:
            items = [o for o in items if selectors.matches(sel, (o.get("metadata") or {}).get("labels"))]
        return sorted(items, key=lambda o: ((o.get("metadata") or {}).get("namespace", ""), (o.get("metadata") or {}).get("name", "")))

    def rows(shown: list[Obj], context: list[Obj], header: bool) -> str:
        """Rows of ``shown``, column widths taken with ``context`` so they line up."""
        if kind.kind == "Event":
            text = render.events_table(context + shown, wide=fmt == "wide", all_namespaces=all_ns, now=_now(),
                                       keep_order=True)
        else:
            text = render.get_table(kind.kind, context + shown, wide=fmt == "wide", all_namespaces=all_ns, now=_now())
        lines = text.splitlines(keepends=True)
        return "".join(lines[:1] if header else []) + "".join(lines[len(lines) - len(shown):] if shown else [])

    _, seen = watch_changes({}, objs)
    if not args.watch_only and objs:
        sys.stdout.write(rows(objs, [], header=True))
        sys.stdout.flush()
    while True:
        time.sleep(1.0)
        changed, seen = watch_changes(seen, current())
        if changed:
            sys.stdout.write(rows(changed, objs, header=False))
            sys.stdout.flush()


def _kv_block(title: str, mapping: dict[str, Any] | None) -> list[str]:
    if not mapping:
        return [f"{title + ':':<14}<none>"]
    # one line per pair: a newline in a value must not forge the next line
    items = sorted((render.escape_terminal(str(k), keep=""), render.escape_terminal(str(v), keep="")) for k, v in mapping.items())
    lines = [f"{title + ':':<14}{items[0][0]}={items[0][1]}"]
    lines += [f"{'':<14}{k}={v}" for k, v in items[1:]]
    return lines


def describe_text(
    kind: kinds.Kind,
    obj: Obj,
    owned: list[str],
    *,
    show_secrets: bool = False,
    events: list[Obj] | None = None,
    now: datetime.datetime | None = None,
    endpoints: Obj | None = None,
) -> str:
    """kubectl-describe-like text: metadata lines, the spec/status as YAML, then the
    events about the object (when ``events`` is given: those whose involvedObject it is)."""
    if kind.kind == "Service":
        from kubeform.store import describe_service

        text = describe_service.service_text(obj, endpoints)
        if events is not None:
            text += render.events_section([e for e in events if render.involves(e, obj)], now or _now())
        return render.escape_terminal(text)
    meta = obj.get("metadata") or {}
    lines = [f"{'Name:':<14}{meta.get('name')}"]
    if kind.namespaced:
        lines.append(f"{'Namespace:':<14}{meta.get('namespace')}")
    lines += _kv_block("Labels", meta.get("labels"))
    lines += _kv_block("Annotations", meta.get("annotations"))
    lines.append(f"{'Created:':<14}{meta.get('creationTimestamp')}")
    lines.append(f"{'UID:':<14}{meta.get('uid', '<none>')}")
    for ref in meta.get("ownerReferences") or []:
        lines.append(f"{'Controlled By:':<14}{ref.get('kind')}/{ref.get('name')}")
    sel = selectors.of_object(obj)
    if sel is not None:
        lines.append(f"{'Selector:':<14}{selectors.format_selector(sel) or '<all>'}")
    if kind.kind == "Service":
        # kubectl's line: every ready address:port (not-ready pods are not endpoints)
        lines.append(f"{'Endpoints:':<14}{render.endpoints_summary(endpoints or {}, shown=10**6)}")
    body: Obj = {}
    if kind.kind == "Secret":
        lines.append(f"{'Type:':<14}{obj.get('type', 'Opaque')}")
        lines.append("Data")
        lines.append("====")
        for k, v in sorted((obj.get("data") or {}).items()):
            if show_secrets:
                lines.append(f"{k}:  {base64.b64decode(v).decode(errors='replace')}")
            else:
                lines.append(f"{k}:  {len(base64.b64decode(v))} bytes")
    elif kind.kind == "ConfigMap":
        body = {"Data": obj.get("data") or {}}
    else:
        for part in ("spec", "status"):
            if obj.get(part):
                body[part.capitalize()] = obj[part]
    text = "\n".join(lines) + "\n"
    for title, value in body.items():
        text += f"{title}:\n" + "".join(f"  {line}\n" for line in render.to_yaml(value).splitlines())
    if owned:
        text += "Owns:\n" + "".join(f"  {r}\n" for r in owned)
    if events is not None:
        text += render.events_section([e for e in events if render.involves(e, obj)], now or _now())
    return render.escape_terminal(text)


def _events_in(store: Store, namespace: str, cache: dict[str, list[Obj]]) -> list[Obj]:
    """The events of one namespace, read once per describe (Nodes' events are in default)."""
    if namespace not in cache:
        cache[namespace] = store.list(kinds.BY_KIND["Event"], namespace)
    return cache[namespace]


def cmd_describe(args: argparse.Namespace) -> int:
    if args.filename:
        files = _from_files(args, "describe")
        refs: list[tuple[kinds.Kind, str | None, str]] = [(r.kind, r.name, r.namespace or _ns(args)) for r in files]
    elif args.kind:
        refs = [(k, n, _ns(args)) for k, n in _split_ref(args.kind, args.names)]
    else:
        raise UserError("name what to describe: KIND [NAME...], KIND/NAME or -f FILE")
    _, store = _connect(args)
    out = []
    event_cache: dict[str, list[Obj]] = {}
    now = _now()
    rc = 0
    for kind, name, namespace in refs:
        if name is None:
            targets = _list(store, kind, namespace if kind.namespaced else None)
        elif args.filename:
            try:
                targets = [_get_one(store, kind, namespace, name)]
            except UserError:
                _err(_not_found(manifest_refs.Ref(kind, namespace, name)))
                rc = 1
                continue
        else:
            targets = [_get_one(store, kind, namespace, name)]
        for obj in targets:
            uid = str((obj.get("metadata") or {}).get("uid"))
            owned = [
                f"{k.qualified}/{o['metadata']['name']}"
                for k, o in applier.owned_by(store, obj.get("metadata", {}).get("namespace"), {uid})
            ] if kind.kind != "Node" else []
            ns = str((obj.get("metadata") or {}).get("namespace") or "default")
            events = None if kind.kind == "Event" else _events_in(store, ns, event_cache)
            ep = None
            if kind.kind == "Service":
                ep = store.get(kinds.BY_KIND["Endpoints"], ns, str(obj["metadata"]["name"]))
            out.append(
                describe_text(kind, obj, owned, show_secrets=args.show_secrets, events=events, now=now, endpoints=ep)
            )
    sys.stdout.write("\n".join(out))
    return rc


# -- delete ------------------------------------------------------------------------------
def cmd_delete(args: argparse.Namespace) -> int:
    propagation = cascade_policy(args.cascade)
    targets: list[tuple[kinds.Kind, str, str]] = []
    if args.filename:
        if args.kind:
            raise UserError("give either -f FILE or KIND NAME, not both")
        for named in manifest_refs.refs_of(load_sources(args.filename), getattr(args, "namespace", None)):
            targets.append((named.kind, named.namespace or _ns(args), named.name))
    elif args.kind:
        _, store0 = _connect(args)
        for kind, name in _split_ref(args.kind, args.names):
            if name is not None:
                targets.append((kind, _ns(args), name))
            elif args.selector or args.all:
                sel = selectors.parse(args.selector) if args.selector else ()
                for o in store0.list(kind, _ns(args) if kind.namespaced else None):
                    if selectors.matches(sel, o.get("metadata", {}).get("labels")):
                        targets.append((kind, _ns(args), str(o["metadata"]["name"])))
            else:
                raise UserError(f"name the {kind.resource} to delete, or use -l SELECTOR / --all")
    else:
        raise UserError("nothing to delete: give -f FILE or KIND NAME")
    _, store = _connect(args)
    grace = pod_deletion.requested_grace(args.grace_period, force=args.force, now_flag=args.now)
    if grace == 0:
        _err(pod_deletion.FORCE_WARNING)
    rc = 0
    pending: list[tuple[str, str, str]] = []
    for kind, ns, name in targets:
        if kind.read_only and kind.kind != "Node":
            raise UserError(f"{kind.kind} objects are managed by the node agents")
        if kind.kind == "Namespace" and name in deletion.PROTECTED_NAMESPACES:
            _err(f'Error from server (Forbidden): namespaces "{name}" is forbidden: this namespace may not be deleted')
            rc = 1
            continue
        obj = store.get(kind, ns, name)
        if obj is None:
            _err(f'kubeform: {kind.qualified} "{name}" not found')
            rc = 1
            continue
        ref = applier.delete_object(store, kind, obj, propagation=propagation, grace=grace, now=_now())
        print(f"{ref} {'force deleted' if grace == 0 and kind.kind == 'Pod' else 'deleted'}", flush=True)
        pending.append((kind.key(ns, name), ref, str((obj.get("metadata") or {}).get("uid") or "")))
    if args.wait and pending:
        _wait_gone(store, pending, args.timeout)
    return rc


#: kubectl's --cascade values (true/false are its deprecated spellings).
CASCADE = {"background": deletion.BACKGROUND, "true": deletion.BACKGROUND,
           "foreground": deletion.FOREGROUND, "orphan": deletion.ORPHAN, "false": deletion.ORPHAN}


def cascade_policy(value: str) -> str:
    policy = CASCADE.get(value.strip().lower())
    if policy is None:
        raise UserError(f"invalid --cascade {value!r}", hint="use background, foreground or orphan")
    return policy


def parse_duration(text: str) -> float:
    """kubectl's durations: 30s, 2m, 1h, 1m30s, or plain seconds; 0 = no limit."""
    import re

    t = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", t):
        return float(t)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", t)
    if not parts or "".join(n + u for n, u in parts) != t:
        raise UserError(f"invalid duration {text!r}", hint="e.g. 30s, 2m, 1h")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def _still_there(store: Store, key: str, uid: str) -> bool:
    """The deleted object is still stored (a new object of the same name, as a StatefulSet
    makes a pod at once, has another uid: the deleted one is gone, as kubectl sees it)."""
    obj = store.get_raw(key)[0]
    return obj is not None and (not uid or str((obj.get("metadata") or {}).get("uid") or "") == uid)


def _wait_gone(store: Store, pending: list[tuple[str, str, str]], timeout: str) -> None:
    """Wait until every deleted object (key, ref, uid) is gone (kubectl's --wait): pods once
    their agent stopped them, owners deleted in the foreground once their dependents are
    gone, namespaces once they are empty."""
    import time

    limit = parse_duration(timeout)
    deadline = time.monotonic() + limit if limit > 0 else None
    left = list(pending)
    while left:
        left = [(key, ref, uid) for key, ref, uid in left if _still_there(store, key, uid)]
        if not left:
            return
        if deadline is not None and time.monotonic() >= deadline:
            names = ", ".join(ref for _, ref, _ in left)
            pods = all(ref.startswith("pod/") for _, ref, _ in left)
            raise UserError(
                f"timed out waiting for {names} to be deleted (still terminating)",
                hint="the node's agent removes a pod after its grace period; is the node Ready?" if pods
                else "the reconciler removes it once what it owns (or what is in it) is gone; "
                "is kubeform-reconciler running?",
            )
        time.sleep(0.25)


# -- scale / label / annotate --------------------------------------------------------------
SCALABLE = {"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"}


def cmd_scale(args: argparse.Namespace) -> int:
    problem = syntax.count(args.replicas)
    if problem is not None:
        raise UserError(problem, field="--replicas")
    _, store = _connect(args)
    for kind, name in _split_ref(args.kind, args.names):
        if kind.kind not in SCALABLE or name is None:
            raise UserError(f"cannot scale {kind.resource}{'' if name else ' without a name'}")
        obj = _get_one(store, kind, _ns(args), name)
        if args.current_replicas is not None and obj.get("spec", {}).get("replicas") != args.current_replicas:
            raise UserError(f"expected {args.current_replicas} current replicas, found {obj.get('spec', {}).get('replicas')}")

        def change(o: Obj) -> Obj:
            new = copy.deepcopy(o)
            new.setdefault("spec", {})["replicas"] = args.replicas
            return new

        applier.update_object(store, kind, obj, change)
        print(f"{kind.qualified}/{name} scaled")
    return 0


def parse_kv_changes(pairs: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """``k=v`` sets, ``k-`` removes; keys are checked like label keys."""
    sets: dict[str, str] = {}
    removes: list[str] = []
    for pair in pairs:
        if pair.endswith("-") and "=" not in pair:
            removes.append(pair[:-1])
        elif "=" in pair:
            k, v = pair.split("=", 1)
            sets[k] = v
        else:
            raise UserError(f"expected KEY=VALUE or KEY-, got {pair!r}")
    for k in [*sets, *removes]:
        problem = syntax.qualified_name(k)
        if problem is not None:
            raise UserError(f"invalid key {shorten(k)}: {problem}")
    return sets, removes


def apply_kv_changes(
    current: dict[str, str], sets: dict[str, str], removes: list[str], *, overwrite: bool, what: str
) -> dict[str, str]:
    """The new labels/annotations; changing an existing value needs --overwrite."""
    out = dict(current)
    for k, v in sets.items():
        if k in out and out[k] != v and not overwrite:
            raise UserError(f"{what} {k!r} already has a value ({out[k]}), and --overwrite is false")
        out[k] = v
    for k in removes:
        out.pop(k, None)
    return out


PAST_TENSE = {"label": "labeled", "annotation": "annotated"}


def _meta_verb(field: str, what: str) -> Callable[[argparse.Namespace], int]:
    """``label``/``annotate``: ``what`` is the noun (label, annotation) used in messages."""
    done = PAST_TENSE[what]

    def cmd(args: argparse.Namespace) -> int:
        refs = _split_ref(args.kind, [a for a in args.rest if "=" not in a and not a.endswith("-")])
        pairs = [a for a in args.rest if "=" in a or a.endswith("-")]
        if not pairs:
            raise UserError(f"give at least one KEY=VALUE or KEY- {what}")
        sets, removes = parse_kv_changes(pairs)
        if what == "label":
            for v in sets.values():
                problem = syntax.label_value(v)
                if problem is not None:
                    raise UserError(f"invalid label value {shorten(v)}: {problem}")
        _, store = _connect(args)
        for kind, name in refs:
            if kind.read_only:
                raise UserError(f"{kind.kind} objects are managed by the node agents")
            targets = [_get_one(store, kind, _ns(args), name)] if name else store.list(kind, _ns(args) if kind.namespaced else None)
            for obj in targets:
                def change(o: Obj) -> Obj:
                    new = copy.deepcopy(o)
                    meta = new.setdefault("metadata", {})
                    meta[field] = apply_kv_changes(meta.get(field) or {}, sets, removes, overwrite=args.overwrite, what=what)
                    if not meta[field]:
                        del meta[field]
                    return new

                new = change(obj)
                if new == obj:
                    print(f"{kind.qualified}/{obj['metadata']['name']} not {done} (no change)")
                    continue
                applier.update_object(store, kind, obj, change)
                print(f"{kind.qualified}/{obj['metadata']['name']} {done}")
        return 0

    return cmd


# -- create ------------------------------------------------------------------------------
def _from_sources(literals: Sequence[str], files: Sequence[str]) -> dict[str, bytes]:
    data: dict[str, bytes] = {}
    for lit in literals:
        if "=" not in lit:
            raise UserError(f"--from-literal needs KEY=VALUE, got {lit!r}")
        k, v = lit.split("=", 1)
        data[k] = v.encode()
    for spec in files:
        key, _, path = spec.partition("=") if "=" in spec else ("", "", spec)
        paths = sorted(p for p in Path(path).iterdir() if p.is_file()) if Path(path).is_dir() else [Path(path)]
        for p in paths:
            try:
                data[key or p.name] = p.read_bytes()
            except OSError as err:
                raise UserError(f"cannot read: {err.strerror}", file=str(p)) from None
    for k in data:
        if not k or not all(c.isalnum() or c in "-._" for c in k):
            raise UserError(f"invalid data key {k!r}")
    return data


def build_created(args: argparse.Namespace) -> Obj:
    """The object ``kubeform create`` makes, before defaults (pure, testable)."""
    ns = _ns(args)
    if args.what == "namespace":
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.name}}
    data = _from_sources(args.from_literal or [], args.from_file or [])
    if args.what == "configmap":
        text: dict[str, str] = {}
        binary: dict[str, str] = {}
        for k, v in data.items():
            try:
                text[k] = v.decode()
            except UnicodeDecodeError:
                binary[k] = base64.b64encode(v).decode()
        obj: Obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": args.name, "namespace": ns}, "data": text}
        if binary:
            obj["binaryData"] = binary
        return obj
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": args.name, "namespace": ns},
        "type": args.type or "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def cmd_create(args: argparse.Namespace) -> int:
    if args.what == "secret" and args.secret_type != "generic":
        raise UserError(f"only `create secret generic` is supported, not {args.secret_type!r}")
    obj = build_created(args)
    doc = Doc("<command line>", 1, obj)
    items, _ = applier.validate_docs([doc], strict=True)
    cd, store = _connect(args)
    kind = items[0][1]
    if store.get(kind, obj["metadata"].get("namespace"), args.name) is not None:
        raise UserError(f'{kind.qualified} "{args.name}" already exists')
    for p in applier.apply_docs(store, items, service_cidr=_cidr(cd)):
        print(f"{p.ref} {p.outcome}")
    return 0


def cmd_create_files(args: argparse.Namespace) -> int:
    """``create -f``: apply's path, but every object must be new (kubectl's create);
    nothing is stored when one exists."""
    if not args.filename:
        raise UserError("give -f FILE, or WHAT NAME", hint="e.g. create -f pod.yaml, create deployment web --image=nginx")
    items = _load_and_validate(args)
    cd, store = _connect(args)
    planned = applier.plan_all(store, items, service_cidr=_cidr(cd))
    existing = [p for p in planned if p.live is not None]
    if existing:
        first = existing[0]
        raise UserError(
            f'{first.kind.resource} "{first.stored["metadata"]["name"]}" already exists', file=first.doc.file,
            document=first.doc.index, hint="nothing was created; `kubeform apply -f` updates existing objects",
        )
    for p in applier.apply_docs(store, items, service_cidr=_cidr(cd)):
        print(f"{p.ref} {p.outcome}", flush=True)
    return 0


# -- registration ------------------------------------------------------------------------
def _bool_flag(text: str) -> bool:
    """``--wait=false`` as kubectl spells booleans."""
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this group's verbs to the top-level parser."""
    p = sub.add_parser("apply", help="create or update objects from manifests")
    p.add_argument("-f", "--filename", action="append", required=True, metavar="FILE|DIR|-")
    p.add_argument("--strict", action="store_true", help="unsupported fields are errors, not warnings")
    p.add_argument("--dry-run", action="store_true", help="show what would happen, store nothing")
    p.add_argument(
        "-y", "--yes", action="store_true", help="on a terminal, apply without showing the plan and asking first"
    )
    _common(p)
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser("diff", help="show what apply would change (exit 0 none, 1 differences, 2 error)")
    p.add_argument("-f", "--filename", action="append", required=True, metavar="FILE|DIR|-")
    p.add_argument("--strict", action="store_true")
    p.add_argument("--show-secrets", action="store_true", help="show Secret values instead of hashes")
    _common(p)
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("get", help="list objects (kubectl-like tables)",
                       description="List objects as kubectl does. KIND may be `all` (pods, services, "
                       "workloads, HPAs, jobs), several kinds joined by commas, or KIND/NAME.")
    p.add_argument("kind", nargs="?", metavar="KIND[,KIND]|KIND/NAME|all")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("-f", "--filename", action="append", metavar="FILE|DIR|-",
                   help="the objects these manifests name")
    p.add_argument("-A", "--all-namespaces", action="store_true")
    p.add_argument("-l", "--selector", metavar="SELECTOR", help="e.g. app=web,tier!=db,env in (a,b),!legacy")
    p.add_argument("-o", "--output", metavar="FORMAT",
                   help="wide, yaml, json, name, jsonpath=TEMPLATE, jsonpath-file=FILE, "
                   "custom-columns=HEADER:PATH,..., custom-columns-file=FILE")
    p.add_argument("-L", "--label-columns", action="append", metavar="KEY[,KEY]",
                   help="a column with the value of each label KEY")
    p.add_argument("--show-labels", action="store_true", help="a LABELS column (k=v,...)")
    p.add_argument("--no-headers", action="store_true", help="tables without their header line")
    p.add_argument("--sort-by", metavar="JSONPATH", help="order by a field, e.g. .metadata.creationTimestamp")
    p.add_argument("-w", "--watch", action="store_true", help="after the table, a row each time an object changes (Ctrl-C ends)")
    p.add_argument("--watch-only", action="store_true", help="as --watch, without the table first")
    p.add_argument("--show-secrets", action="store_true")
    _common(p)
    p.set_defaults(func=cmd_get)

    p = sub.add_parser("describe", help="show one object in detail")
    p.add_argument("kind", nargs="?", metavar="KIND|KIND/NAME")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("-f", "--filename", action="append", metavar="FILE|DIR|-",
                   help="the objects these manifests name")
    p.add_argument("--show-secrets", action="store_true")
    _common(p)
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("delete", help="delete objects (and what they own)")
    p.add_argument("kind", nargs="?", metavar="KIND|KIND/NAME")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("-f", "--filename", action="append", metavar="FILE|DIR|-")
    p.add_argument("-l", "--selector", metavar="SELECTOR")
    p.add_argument("--all", action="store_true", help="every object of the kind in the namespace")
    p.add_argument("--cascade", default="background", metavar="background|foreground|orphan",
                   help="what happens to what the objects own: deleted after them (background, the "
                   "default), before them (foreground), or kept without this owner (orphan)")
    p.add_argument("--grace-period", type=int, default=-1, metavar="N",
                   help="seconds a pod gets to stop (-1: the pod's terminationGracePeriodSeconds, default 30)")
    p.add_argument("--now", action="store_true", help="same as --grace-period=1")
    p.add_argument("--force", action="store_true",
                   help="with --grace-period=0: remove pods at once, without waiting for their node")
    p.add_argument("--wait", type=_bool_flag, nargs="?", const=True, default=True, metavar="true|false",
                   help="wait until the deleted objects are gone (default true)")
    p.add_argument("--timeout", default="0s", metavar="DURATION",
                   help="give up waiting after this long (e.g. 60s; default 0s: no limit)")
    _common(p)
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("scale", help="set the replicas of a workload")
    p.add_argument("kind", metavar="KIND/NAME|KIND")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--replicas", type=int, required=True)
    p.add_argument("--current-replicas", type=int, help="only if it currently has this many")
    _common(p)
    p.set_defaults(func=cmd_scale)

    for verb, fieldname, what in (("label", "labels", "label"), ("annotate", "annotations", "annotation")):
        p = sub.add_parser(verb, help=f"set (k=v) or remove (k-) {fieldname}")
        p.add_argument("kind", metavar="KIND|KIND/NAME")
        p.add_argument("rest", nargs="+", metavar="NAME|KEY=VALUE|KEY-")
        p.add_argument("--overwrite", action="store_true", help="allow changing an existing value")
        _common(p)
        p.set_defaults(func=_meta_verb(fieldname, what))

    p = sub.add_parser("create", help="create objects from manifests (-f), or a namespace, secret, configmap, "
                       "deployment, job or service")
    p.add_argument("-f", "--filename", action="append", metavar="FILE|DIR|-",
                   help="create what the manifests describe (an object that exists is an error)")
    p.add_argument("--strict", action="store_true", help="unsupported fields are errors, not warnings")
    _common(p)
    p.set_defaults(func=cmd_create_files)
    csub = p.add_subparsers(dest="what", metavar="WHAT")
    from kubeform.cli import generate

    generate.register_create(csub)
    c = csub.add_parser("namespace", aliases=["ns"], help="a Namespace")
    c.add_argument("name")
    _common(c, namespace=False)
    c.set_defaults(func=cmd_create, what="namespace")
    c = csub.add_parser("secret", help="a generic Secret from literals and files")
    c.add_argument("secret_type", metavar="generic")
    c.add_argument("name")
    c.add_argument("--from-literal", action="append", metavar="KEY=VALUE")
    c.add_argument("--from-file", action="append", metavar="[KEY=]PATH")
    c.add_argument("--type", help="Secret type (default Opaque)")
    _common(c)
    c.set_defaults(func=cmd_create, what="secret")
    c = csub.add_parser("configmap", aliases=["cm"], help="a ConfigMap from literals and files")
    c.add_argument("name")
    c.add_argument("--from-literal", action="append", metavar="KEY=VALUE")
    c.add_argument("--from-file", action="append", metavar="[KEY=]PATH")
    _common(c)
    c.set_defaults(func=cmd_create, what="configmap")
