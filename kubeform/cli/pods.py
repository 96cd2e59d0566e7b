"""``kubeform logs`` and ``kubeform exec``: a pod's container output and a command inside it.

Why over SSH to the pod's node: the logs live on that host (/var/log/pods, CRI format) and
exec needs that host's runtime; kubeform already reaches every host over its own SSH
transport with verified host keys, so there is no node API to secure. ``up`` records each
host's connection vars in cluster.yml (``ssh_hosts``); the node runs the stdlib helper
kubeform/agent/runtime/podcli.py from /opt/kubeform, which reads the files and asks the
node's driver (crun or docker) how to enter the container.

The decisions (which container, whether the pod can be reached, the remote command line)
are pure and tested with tests/data/cli/pods.yml; the SSH session is the edge.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import shlex
import signal
import sys
import threading
from typing import Any

from kubeform.api import kinds, selectors
from kubeform.bootstrap.cluster_plan import HOSTS_KEY
from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.errors import UserError

AGENT_ROOT = "/opt/kubeform"


# --- pure decisions ------------------------------------------------------------------------
def choose_container(pod: dict[str, Any], requested: str | None) -> str:
    """The container a verb applies to, or kubectl's error when it is ambiguous or unknown."""
    name = pod.get("metadata", {}).get("name", "")
    spec = pod.get("spec", {})
    apps = [c.get("name", "") for c in spec.get("containers") or []]
    inits = [c.get("name", "") for c in spec.get("initContainers") or []]
    if requested:
        if requested in apps or requested in inits:
            return requested
        raise UserError(f"container {requested} is not valid for pod {name}")
    if len(apps) == 1:
        return str(apps[0])
    msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(apps)}]"
    if inits:
        msg += f" or one of the init containers: [{' '.join(inits)}]"
    raise UserError(msg)


def check_reachable(pod: dict[str, Any], container: str, verb: str) -> str:
    """The node to go to; a UserError when the pod is not (yet, or any more) on one.

    Messages as kubectl's: a pod not scheduled has no host; exec into a finished pod is
    refused; a container that never started has nothing to show.
    """
    name = pod.get("metadata", {}).get("name", "")
    node = str(pod.get("spec", {}).get("nodeName") or "")
    if not node:
        raise UserError(f"pod {name} does not have a host assigned")
    status = pod.get("status", {})
    phase = status.get("phase", "")
    if verb == "exec" and phase in ("Succeeded", "Failed"):
        raise UserError(f"cannot exec into a container in a completed pod; current phase is {phase}")
    statuses = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    for cs in statuses:
        if cs.get("name") != container:
            continue
        state = cs.get("state") or {}
        waiting = state.get("waiting")
        never_ran = not cs.get("lastState", {}).get("terminated") and not cs.get("restartCount")
        if waiting and (verb == "exec" or never_ran):
            reason = waiting.get("reason", "ContainerCreating")
            raise UserError(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        if verb == "exec" and "running" not in state:
            raise UserError(f'container "{container}" in pod "{name}" is not running')
    return node


#: What ``logs KIND/NAME`` accepts besides pods: the kinds whose selector picks pods (kubectl's).
OWNER_KINDS = ("Job", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController", "Service")


def _ready_since(pod: dict[str, Any]) -> str | None:
    """The Ready condition's lastTransitionTime while it is True, else None (not ready)."""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == "Ready":
            return str(c.get("lastTransitionTime") or "") if c.get("status") == "True" else None
    return None


def _activity(pod: dict[str, Any]) -> tuple[Any, ...]:
    """Larger is the pod kubectl picks: its ActivePods order read backwards, i.e. assigned
    before unassigned, Running before Unknown before the rest, ready before not ready,
    ready longest, fewest restarts, oldest; ties by name so the choice is stable."""
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    phase = {"Running": 2, "Unknown": 1}.get(str(status.get("phase") or ""), 0)
    since = _ready_since(pod)
    restarts = max([int(cs.get("restartCount") or 0) for cs in status.get("containerStatuses") or []
                    if isinstance(cs, dict)] or [0])
    created = str(meta.get("creationTimestamp") or "")
    # ISO times of one form order as strings; an empty time counts as the least active
    # (kubectl's afterOrZero), hence the (present, inverted) pairs.
    return (
        bool(spec.get("nodeName")), phase, since is not None,
        (bool(since), _invert(since or "")), -restarts, (created != "", _invert(created)),
        _invert(str(meta.get("name") or "")),
    )


def _invert(text: str) -> tuple[int, ...]:
    """A key that sorts ``text`` backwards (earlier times are larger)."""
    return (*(-ord(ch) for ch in text), 0)


def first_pod(owner: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """The pod ``logs KIND/NAME`` reads and how many the owner's selector matched
    (kubectl's GetFirstPod: "Found N pods, using pod/x" when N > 1)."""
    meta = owner.get("metadata") or {}
    ref = f"{str(owner.get('kind', '')).lower()}/{meta.get('name', '')}"
    sel = selectors.of_object(owner)
    if not sel:
        raise UserError(f"{ref} has no selector: it selects no pods")
    matched = [p for p in pods if selectors.matches(sel, (p.get("metadata") or {}).get("labels"))]
    if not matched:
        raise UserError(f"no pods match {ref}'s selector {selectors.format_selector(sel)}")
    return max(matched, key=_activity), len(matched)


def remote_command(
    verb: str,
    pod: dict[str, Any],
    container: str,
    *,
    user: str = "root",
    follow: bool = False,
    previous: bool = False,
    tail: int | None = None,
    stdin: bool = False,
    tty: bool = False,
    command: list[str] | None = None,
) -> str:
    """The shell command run on the node (podcli.py; sudo -n for a non-root SSH user)."""
    meta = pod.get("metadata", {})
    argv = ["env", f"PYTHONPATH={AGENT_ROOT}", "python3", "-m", "kubeform.agent.runtime.podcli", verb]
    if verb == "logs":
        argv += ["--namespace", meta.get("namespace", "default"), "--pod", meta.get("name", "")]
        argv += ["--uid", meta.get("uid", ""), "--container", container]
        if follow:
            argv.append("--follow")
        if previous:
            argv.append("--previous")
        if tail is not None:
            argv += ["--tail", str(tail)]
    else:
        argv += ["--uid", meta.get("uid", ""), "--container", container]
        if stdin:
            argv.append("-i")
        if tty:
            argv.append("-t")
        argv += ["--", *(command or [])]
    if user != "root":
        argv = ["sudo", "-n", *argv]
    return " ".join(shlex.quote(a) for a in argv)


def node_host_vars(cd: ClusterDir, node: str) -> dict[str, Any]:
    """The node's connection vars as `up` recorded them."""
    hosts = cd.extra.get(HOSTS_KEY) or {}
    vars_ = hosts.get(node)
    if not isinstance(vars_, dict):
        raise UserError(
            f"cluster.yml has no connection for node {node}",
            hint="run `kubeform up` again: it records every host's connection in cluster.yml",
        )
    return {k: v for k, v in vars_.items() if k != "name"}


# --- the SSH edge ------------------------------------------------------------------------------
def _find_pod(args: argparse.Namespace, *, announce: bool = False) -> tuple[ClusterDir, dict[str, Any]]:
    """The pod POD names: ``NAME``, ``pod/NAME`` or ``KIND/NAME`` of a workload or
    Service (its selector's first pod, as kubectl picks it; waiting for one to appear up
    to --pod-running-timeout); ``announce``: say which of several it took (logs)."""
    import time

    from kubeform.store.client import Store

    cd = ClusterDir.find(getattr(args, "cluster", None))
    store = Store.from_cluster(cd)
    kind_text, _, name = str(args.pod).rpartition("/")
    kind = kinds.resolve(kind_text) if kind_text else kinds.BY_KIND["Pod"]
    if not name:
        raise UserError(f"expected POD or KIND/NAME, got {args.pod!r}")
    if kind.kind == "Pod":
        pod = store.get(kind, args.namespace, name)
        if pod is None:
            raise UserError(f'pods "{name}" not found in namespace "{args.namespace}"')
        return cd, pod
    if kind.kind not in OWNER_KINDS:
        raise UserError(f"cannot get the pods of a {kind.kind}: it selects none",
                        hint="give a pod, or a job/, deployment/, replicaset/, statefulset/, daemonset/ or service/")
    owner = store.get(kind, args.namespace, name)
    if owner is None:
        raise UserError(f'{kind.qualified} "{name}" not found in namespace "{args.namespace}"')
    timeout = getattr(args, "pod_running_timeout", None)
    deadline = time.monotonic() + (_seconds(timeout) if timeout else 0.0)
    while True:
        try:
            pod, count = first_pod(owner, store.list(kinds.BY_KIND["Pod"], args.namespace))
            break
        except UserError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1.0)
    if count > 1 and announce:
        print(f"Found {count} pods, using pod/{pod['metadata']['name']}", file=sys.stderr)
    return cd, pod


def _seconds(text: str) -> float:
    from kubeform.cli.objects import parse_duration

    return parse_duration(text)


def _open_channel(cd: ClusterDir, node: str) -> tuple[Any, Any]:
    from kubeform.inventory.model import Host
    from kubeform.transport.ssh import SSHConnection

    host = Host(node, node_host_vars(cd, node))
    conn = SSHConnection(host)
    try:
        transport = conn._ensure_transport()
        channel = conn._open_channel(transport)
    except Exception as err:
        raise UserError(f"cannot reach node {node} over ssh: {err}") from None
    return conn, channel


def run_remote(cd: ClusterDir, node: str, command: str, *, stdin: bool, tty: bool) -> int:
    """Run command on the node, wired to this terminal; its exit status."""
    conn, channel = _open_channel(cd, node)
    restore = None
    try:
        if tty:
            size = os.get_terminal_size() if sys.stdout.isatty() else os.terminal_size((80, 24))
            channel.get_pty(term=os.environ.get("TERM", "xterm"), width=size.columns, height=size.lines)
        channel.exec_command(command)
        if tty and sys.stdin.isatty():
            import termios
            import tty as tty_mod

            fd = sys.stdin.fileno()
            old = termios.tcgetattr(fd)
            tty_mod.setraw(fd)

            def restore() -> None:
                termios.tcsetattr(fd, termios.TCSADRAIN, old)

        if stdin:
            threading.Thread(target=_pump_stdin, args=(channel,), daemon=True).start()
        else:
            channel.shutdown_write()
        _pump_output(channel)
        return int(channel.recv_exit_status())
    finally:
        if restore is not None:
            restore()
        with contextlib.suppress(Exception):
            channel.close()
        conn.close()


def _pump_stdin(channel: Any) -> None:
    fd = sys.stdin.fileno()
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            channel.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(Exception):
        channel.shutdown_write()


def _pump_output(channel: Any) -> None:
    out, err = sys.stdout.buffer, sys.stderr.buffer
    while True:
        if channel.recv_ready():
            data = channel.recv(65536)
            out.write(data)
            out.flush()
            continue
        if channel.recv_stderr_ready():
            err.write(channel.recv_stderr(65536))
            err.flush()
            continue
        if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
            return
        select.select([channel], [], [], 0.5)


def cmd_logs(args: argparse.Namespace) -> int:
    cd, pod = _find_pod(args, announce=True)
    container = choose_container(pod, args.container)
    node = check_reachable(pod, container, "logs")
    user = str(node_host_vars(cd, node).get("ansible_user") or "root")
    command = remote_command(
        "logs", pod, container, user=user, follow=args.follow, previous=args.previous, tail=args.tail
    )
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return run_remote(cd, node, command, stdin=False, tty=False)


def split_exec_args(rest: list[str]) -> tuple[list[str], list[str]]:
    """(options, command) of what follows POD: the command is everything after ``--``.

    argparse's REMAINDER swallows options given after the pod (``exec web -c app -- ls``),
    so they are parsed again here; without ``--`` everything is the command.
    """
    if "--" in rest:
        i = rest.index("--")
        return rest[:i], rest[i + 1 :]
    return [], rest


def _exec_options(args: argparse.Namespace, options: list[str]) -> None:
    p = argparse.ArgumentParser(prog="kubeform exec", add_help=False)
    _exec_flags(p)
    p.parse_args(options, namespace=args)


def _exec_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--container", metavar="NAME")
    p.add_argument("-i", "--stdin", action="store_true", help="pass stdin to the command")
    p.add_argument("-t", "--tty", action="store_true", help="a terminal for the command")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("--cluster", metavar="DIR", help="cluster directory (default: $KUBEFORM_CLUSTER or ./.kubeform/*)")


def cmd_exec(args: argparse.Namespace) -> int:
    options, command = split_exec_args(list(args.command))
    if options:
        _exec_options(args, options)
    if not command:
        raise UserError("you must specify at least one command for the container (kubeform exec POD -- CMD...)")
    cd, pod = _find_pod(args)
    container = choose_container(pod, args.container)
    node = check_reachable(pod, container, "exec")
    user = str(node_host_vars(cd, node).get("ansible_user") or "root")
    remote = remote_command(
        "exec", pod, container, user=user, stdin=args.stdin, tty=args.tty, command=command
    )
    return run_remote(cd, node, remote, stdin=args.stdin, tty=args.tty)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``logs`` and ``exec`` to the top-level parser."""
    p = sub.add_parser("logs", help="print a container's output (from the pod's node)")
    p.add_argument("pod", metavar="POD|TYPE/NAME", help="a pod, pod/NAME, or job|deployment|replicaset|"
                   "statefulset|daemonset|service/NAME (its first pod)")
    p.add_argument("--pod-running-timeout", default="20s", metavar="DURATION",
                   help="how long TYPE/NAME waits for a pod to appear (default 20s)")
    p.add_argument("-c", "--container", metavar="NAME")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new output")
    p.add_argument("-p", "--previous", action="store_true", help="the previous attempt's output")
    p.add_argument("--tail", type=int, metavar="N", help="only the last N lines")
    p.add_argument("-n", "--namespace", default="default")
    p.add_argument("--cluster", metavar="DIR", help="cluster directory (default: $KUBEFORM_CLUSTER or ./.kubeform/*)")
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("exec", help="run a command in a container (on the pod's node)")
    _exec_flags(p)
    p.add_argument("pod", metavar="POD|TYPE/NAME")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD")
    p.set_defaults(func=cmd_exec)
