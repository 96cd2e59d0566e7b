"""Imperative verbs of the Kubernetes docs' walkthroughs: run (a pod), expose, autoscale,
and create deployment|job|service.

Each builds its object with kubeform/store/generators.py and stores it through the path
``apply`` takes (schema validation, defaults, ClusterIP/NodePort allocation, one etcd
transaction); ``--dry-run=client`` prints the generated object without connecting (when
no live object is needed), ``--dry-run=server`` the object as it would be stored.

``run`` is also the playbook verb (kubeform/cli/engine.py): main.py routes ``kubeform
run`` here when ``--image`` is among its flags, as only a pod run has one.
"""

from __future__ import annotations

import argparse
import copy
import sys
from typing import Any

from kubeform.api import kinds, syntax
from kubeform.errors import UserError
from kubeform.store import applier, generators, output_formats
from kubeform.store import printers as render
from kubeform.store.manifests import Doc

Obj = dict[str, Any]

DRY_RUN = ("none", "client", "server")


def _dry_run(value: str) -> str:
    if value not in DRY_RUN:
        raise UserError(f"invalid --dry-run {value!r}", hint="none, client or server")
    return value


def _print_object(obj: Obj, ref: str, message: str, output: str | None) -> None:
    fmt, arg = output_formats.parse(output)
    if fmt in ("", "wide"):
        print(f"{ref} {message}")
    elif fmt == "name":
        print(ref)
    elif fmt == "yaml":
        sys.stdout.write(render.to_yaml(render.canonical(obj)))
    elif fmt == "json":
        sys.stdout.write(render.to_json(render.canonical(obj)))
    elif fmt == "jsonpath":
        sys.stdout.write(output_formats.jsonpath_text(arg, [obj], True))
    else:
        sys.stdout.write(output_formats.custom_columns(arg, [obj]))


def store_new(args: argparse.Namespace, obj: Obj, done: str, *, quiet: bool = False) -> int:
    """Validate, default and store ``obj`` as ``apply`` would, refusing one that exists
    (kubectl's create semantics); print kubectl's line or the object (``-o``)."""
    from kubeform.cli import objects

    mode = _dry_run(args.dry_run)
    output_formats.parse(args.output)  # a bad -o fails before anything is stored
    name = str(obj["metadata"]["name"])
    problem = syntax.object_name(str(obj["kind"]), name)
    if problem is not None:  # one line, not one per field the name was copied into
        raise UserError(f"invalid name {name!r}: {problem}")
    generated = copy.deepcopy(obj)
    items, warnings = applier.validate_docs(
        [Doc("<command line>", 1, obj)], strict=True, default_namespace=objects._ns(args)
    )
    for w in warnings:
        print(w, file=sys.stderr)
    kind = items[0][1]
    ref = f"{kind.qualified}/{name}"
    if mode == "client":
        _print_object(generated, ref, f"{done} (dry run)", args.output)
        return 0
    cd, store = objects._connect(args)
    namespace = str(obj["metadata"].get("namespace") or "default") if kind.namespaced else None
    if store.get(kind, namespace, name) is not None:
        raise UserError(f'{kind.resource} "{name}" already exists'
                        + (f' in namespace {namespace}' if namespace else ""))
    if mode == "server":
        planned = applier.plan_all(store, items, service_cidr=objects._cidr(cd))
        _print_object(planned[0].stored, ref, f"{done} (server dry run)", args.output)
        return 0
    planned = applier.apply_docs(store, items, service_cidr=objects._cidr(cd))
    if not quiet:
        _print_object(planned[0].stored, ref, done, args.output)
    return 0


def _live(args: argparse.Namespace, kind_name: str, name: str | None) -> Obj:
    """The object a verb works from (the workload to expose or autoscale, the CronJob)."""
    from kubeform.cli import objects

    if name is None:
        if "/" not in kind_name:
            raise UserError(f"name the {kind_name} (KIND NAME or KIND/NAME)")
        kind_name, name = kind_name.split("/", 1)
    kind = kinds.resolve(kind_name)
    _, store = objects._connect(args)
    return objects._get_one(store, kind, objects._ns(args), name)


# -- the verbs ---------------------------------------------------------------------------
NO_ATTACH = "kubeform: no attach: the pod's output is printed once it ends (stdin is not connected)"


def cmd_run(args: argparse.Namespace) -> int:
    attached = bool(args.stdin or args.tty or args.rm or args.attach)
    if attached:
        if args.restart == "Always":
            raise UserError(
                "kubeform run cannot attach to a container: with -i, -t, --attach or --rm it waits for the pod "
                "to end and prints its output, so the pod must end: give --restart=Never (or OnFailure)",
                hint=f"for a shell: `kubeform run {args.name} --image={args.image} -- sleep 3600`, then "
                f"`kubeform exec -it {args.name} -- sh`",
            )
        if args.dry_run != "none" or args.output:
            raise UserError("--dry-run and -o cannot be used with -i, -t, --attach or --rm")
    pod = generators.run_pod(
        args.name, args.image, namespace=args.namespace, port=args.port, restart=args.restart, env=args.env or [],
        labels=args.labels, command=args.command_flag, rest=args.rest, pull_policy=args.image_pull_policy,
    )
    if not attached:
        return store_new(args, pod, "created")
    store_new(args, pod, "created", quiet=True)
    print(NO_ATTACH, file=sys.stderr, flush=True)
    return _attached(args, str(pod["metadata"].get("namespace") or _namespace(args)))


def _namespace(args: argparse.Namespace) -> str:
    from kubeform.cli import objects

    return objects._ns(args)


def _attached(args: argparse.Namespace, namespace: str) -> int:
    """Wait for the run's pod to end, print its output, remove it with --rm; the exit
    code is the container's, as kubectl's attached run returns it."""
    import time

    from kubeform.api import deletion
    from kubeform.cli import objects, pods
    from kubeform.store import run_outcome

    _, store = objects._connect(args)
    kind = kinds.BY_KIND["Pod"]
    start_limit = objects.parse_duration(args.pod_running_timeout)
    began = time.monotonic()
    try:
        while True:
            now = run_outcome.outcome(store.get(kind, namespace, args.name))
            if now.state == "stuck":
                raise UserError(f'pod "{args.name}" cannot run: {now.detail}',
                                hint=f"kubeform describe pod {args.name} -n {namespace}")
            if now.state == "pending" and start_limit > 0 and time.monotonic() - began > start_limit:
                raise UserError(f'timed out after {args.pod_running_timeout} waiting for pod "{args.name}" to start'
                                + (f" ({now.detail})" if now.detail else ""), hint="--pod-running-timeout")
            if now.state == "done":
                break
            time.sleep(0.5)
        logs = argparse.Namespace(pod=args.name, container=None, follow=False, previous=False, tail=None,
                                  namespace=namespace, cluster=args.cluster)
        rc = pods.cmd_logs(logs)
        return rc or now.exit_code
    finally:
        if args.rm:
            obj = store.get(kind, namespace, args.name)
            if obj is not None:
                applier.delete_object(store, kind, obj, propagation=deletion.BACKGROUND)
                print(f'pod "{args.name}" deleted', file=sys.stderr)


def cmd_expose(args: argparse.Namespace) -> int:
    target = _live(args, args.kind, args.target)
    svc = generators.expose(
        target, name=args.name, port=args.port, target_port_text=args.target_port, svc_type=args.type,
        protocol=args.protocol, selector=args.selector, labels=args.labels, node_port=args.node_port,
        cluster_ip=args.cluster_ip,
    )
    return store_new(args, svc, "exposed")


def cmd_autoscale(args: argparse.Namespace) -> int:
    target = _live(args, args.kind, args.target)
    hpa = generators.autoscale(target, max_replicas=args.max, min_replicas=args.min, cpu_percent=args.cpu_percent,
                               name=args.name)
    return store_new(args, hpa, "autoscaled")


def cmd_create_deployment(args: argparse.Namespace) -> int:
    obj = generators.deployment(args.name, args.image or [], namespace=args.namespace, replicas=args.replicas,
                                port=args.port, rest=args.rest)
    return store_new(args, obj, "created")


def cmd_create_job(args: argparse.Namespace) -> int:
    if bool(args.image) == bool(args.from_):
        raise UserError("give either --image or --from=cronjob/NAME")
    if args.from_:
        kind_name, _, source = args.from_.partition("/")
        if not source or kinds.resolve(kind_name).kind != "CronJob":
            raise UserError(f"--from must be cronjob/NAME, got {args.from_!r}")
        if args.rest:
            raise UserError("a command (after --) cannot be given with --from")
        obj = generators.job_from_cronjob(_live(args, "cronjob", source), name=args.name, namespace=args.namespace)
    else:
        obj = generators.job(args.name, args.image, namespace=args.namespace, rest=args.rest)
    return store_new(args, obj, "created")


def cmd_create_service(args: argparse.Namespace) -> int:
    obj = generators.service(args.name, args.service_type, namespace=args.namespace, tcp=args.tcp or [],
                             node_port=args.node_port, cluster_ip=args.clusterip, external_name=args.external_name)
    return store_new(args, obj, "created")


# -- registration ------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", nargs="?", const="client", default="none", metavar="none|client|server",
                   help="client: print the object, store nothing; server: as it would be stored (defaults, "
                   "addresses), store nothing")
    p.add_argument("-o", "--output", metavar="FORMAT", help="print the object: yaml, json, name, jsonpath=..., custom-columns=...")
    p.add_argument("-n", "--namespace", help="namespace (default: default)")
    p.add_argument("--cluster", metavar="DIR", help="cluster directory (default: $KUBEFORM_CLUSTER or ./.kubeform/*)")


def _rest(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("rest", nargs="*", metavar=f"-- {what}")


def register_run(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "run", help="run a pod: kubeform run NAME --image=IMG (as kubectl run)",
        description="Create a Pod running IMAGE, as kubectl run does (labels run=NAME). Words after -- "
        "are the container's args, or its command with --command. (Without --image, `run` runs a playbook.)",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--image", required=True, metavar="IMAGE")
    p.add_argument("--port", metavar="PORT", help="the container port to expose")
    p.add_argument("--restart", default="Always", metavar="Always|OnFailure|Never")
    p.add_argument("--env", action="append", metavar="KEY=VALUE")
    p.add_argument("-l", "--labels", metavar="K=V,...", help="pod labels (default run=NAME)")
    p.add_argument("--image-pull-policy", metavar="Always|IfNotPresent|Never")
    p.add_argument("--command", dest="command_flag", action="store_true",
                   help="the words after -- are the command, not args to the image's entrypoint")
    attach = ("kubeform has no attach: wait for the pod to end (--restart=Never or OnFailure), "
              "then print its output")
    p.add_argument("-i", "--stdin", action="store_true", help=attach)
    p.add_argument("-t", "--tty", action="store_true", help="as -i (no terminal is connected)")
    p.add_argument("--attach", action="store_true", help="as -i")
    p.add_argument("--rm", action="store_true", help="as -i, then delete the pod")
    p.add_argument("--pod-running-timeout", default="1m", metavar="DURATION",
                   help="with -i/--rm: how long the pod may take to start (default 1m)")
    _rest(p, "ARGS")
    _common(p)
    p.set_defaults(func=cmd_run)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """expose and autoscale (main.py calls register_run alone for a pod run)."""
    p = sub.add_parser("expose", help="make a Service for a deployment, replicaset, rc, pod or service",
                       description="Create a Service selecting the pods of the target, as kubectl expose does.")
    p.add_argument("kind", metavar="KIND|KIND/NAME", help="deployment, replicaset, rc, pod or service")
    p.add_argument("target", nargs="?", metavar="NAME")
    p.add_argument("--port", metavar="PORT", help="the Service's port (default: the target's container ports)")
    p.add_argument("--target-port", metavar="PORT|NAME", help="the pods' port (default: --port)")
    p.add_argument("--type", metavar="ClusterIP|NodePort|LoadBalancer")
    p.add_argument("--name", metavar="NAME", help="the Service's name (default: the target's)")
    p.add_argument("--protocol", metavar="TCP|UDP|SCTP")
    p.add_argument("--selector", metavar="K=V,...", help="pods to select (default: the target's selector)")
    p.add_argument("-l", "--labels", metavar="K=V,...", help="the Service's labels (default: the target's)")
    p.add_argument("--node-port", type=int, metavar="PORT")
    p.add_argument("--cluster-ip", metavar="IP|None")
    _common(p)
    p.set_defaults(func=cmd_expose)

    p = sub.add_parser("autoscale", help="make a HorizontalPodAutoscaler for a deployment, replicaset, rc or statefulset",
                       description="Create an autoscaling/v2 HPA for the target, as kubectl autoscale does.")
    p.add_argument("kind", metavar="KIND|KIND/NAME")
    p.add_argument("target", nargs="?", metavar="NAME")
    p.add_argument("--max", type=int, required=True, metavar="N")
    p.add_argument("--min", type=int, default=-1, metavar="N", help="default 1")
    p.add_argument("--cpu-percent", type=int, default=-1, metavar="PERCENT", help="target CPU use (default 80)")
    p.add_argument("--name", metavar="NAME", help="the HPA's name (default: the target's)")
    _common(p)
    p.set_defaults(func=cmd_autoscale)


def register_create(csub: argparse._SubParsersAction[Any]) -> None:
    """``create deployment|job|service`` beside objects.py's namespace/secret/configmap."""
    c = csub.add_parser("deployment", aliases=["deploy"], help="a Deployment of IMAGE (labels app=NAME)")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--image", action="append", metavar="IMAGE", help="repeat for several containers")
    c.add_argument("--replicas", type=int, default=1, metavar="N")
    c.add_argument("--port", metavar="PORT")
    _rest(c, "COMMAND")
    _common(c)
    c.set_defaults(func=cmd_create_deployment, what="deployment")

    c = csub.add_parser("job", help="a Job of IMAGE, or from a CronJob's template (--from=cronjob/NAME)")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--image", metavar="IMAGE")
    c.add_argument("--from", dest="from_", metavar="cronjob/NAME")
    _rest(c, "COMMAND")
    _common(c)
    c.set_defaults(func=cmd_create_job, what="job")

    c = csub.add_parser("service", aliases=["svc"], help="a Service: clusterip|nodeport|externalname NAME")
    ssub = c.add_subparsers(dest="service_type", metavar="TYPE", required=True)
    for svc_type in ("clusterip", "nodeport", "externalname"):
        s = ssub.add_parser(svc_type)
        s.add_argument("name", metavar="NAME")
        s.add_argument("--tcp", action="append", metavar="PORT:TARGET")
        s.add_argument("--node-port", type=int, metavar="PORT", help=argparse.SUPPRESS if svc_type != "nodeport" else None)
        s.add_argument("--clusterip", metavar="IP|None", help="None for a headless service")
        s.add_argument("--external-name", metavar="DNS-NAME")
        _common(s)
        s.set_defaults(func=cmd_create_service, what="service")
