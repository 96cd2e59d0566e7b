"""The crun runtime's lab scenario, run ON a lab host (python3 - PHASE ARGS < this file).

Why a script on the host: the driver is host code (stdlib, runs as root next to crun, the
CNI plugins and /run/netns); the pytest side (test_runtime_crun.py) only ships the code,
runs the phases over SSH and checks the JSON they print. Phase ``start`` plays an agent
that starts a pod and is then killed (-9); phase ``check`` plays the restarted agent.
Everything lives under its own state dir (WORK/state) so a real agent never sees it.

Phases (argv: PHASE WORK):
  image   build busybox as an OCI layout, serve it from a throw-away TLS registry on
          127.0.0.1:5443 and pull it through the mirror; also Never / unknown images
  start   sandbox + two containers (server, client) + an exiting one; then kill -9 itself
  check   a new driver finds the same sandbox/IP/containers; logs; exec; usage; stop;
          remove leaves nothing behind
  cleanup remove whatever is left (always run)
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

PHASE, WORK = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(WORK, "code"))

from kubeform.agent.runtime import cni, crun, shim  # noqa: E402
from kubeform.agent.runtime.driver import ContainerSpec, PullError, SandboxSpec  # noqa: E402

STATE = os.path.join(WORK, "state")
REG_PORT = 5443
UID = "c0ffee00-aaaa-4bbb-8ccc-" + os.path.basename(WORK)[-12:].rjust(12, "0")
REF = "kubeform-test/busybox:crun"
HOST_PORTS = [{"hostPort": 18080, "containerPort": 8080, "protocol": "tcp"}]


class Config:
    state_dir = STATE
    cni_conf_dir = os.path.join(WORK, "cni")  # our own copy: the node's stays untouched
    cni_bin_dirs = ("/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin")
    subnet_env = "/run/flannel/subnet.env"
    cluster_dns = "10.96.0.10"
    cluster_domain = "cluster.local"
    registry = f"127.0.0.1:{REG_PORT}"
    registry_ca = os.path.join(WORK, "reg", "ca.crt")


def out(**kw: Any) -> None:
    print(json.dumps(kw, sort_keys=True), flush=True)


def sh(cmd: str) -> str:
    return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True).stdout


def log_path(name: str, attempt: int = 0) -> str:
    return os.path.join(WORK, "logs", f"default_crunpod_{UID}", name, f"{attempt}.log")


def start_registry() -> None:
    """docker-registry with a self-signed cert for 127.0.0.1, the 'cluster registry'."""
    reg = os.path.join(WORK, "reg")
    os.makedirs(os.path.join(reg, "data"), exist_ok=True)
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
       f"-addext subjectAltName=IP:127.0.0.1 -keyout {reg}/key.pem -out {reg}/ca.crt")
    with open(os.path.join(reg, "config.yml"), "w") as f:
        f.write(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {reg}/data\n"
                f"http:\n  addr: 127.0.0.1:{REG_PORT}\n  tls:\n    certificate: {reg}/ca.crt\n"
                f"    key: {reg}/key.pem\n")
    proc = subprocess.Popen(["docker-registry", "serve", os.path.join(reg, "config.yml")],
                            stdin=subprocess.DEVNULL, stdout=open(os.path.join(reg, "log"), "w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    with open(os.path.join(reg, "pid"), "w") as f:
        f.write(str(proc.pid))
    for _ in range(100):
        if "200" in sh("curl -s -o /dev/null -w '%{http_code}' "
                       f"--cacert {reg}/ca.crt https://127.0.0.1:{REG_PORT}/v2/"):
            return
        time.sleep(0.1)
    raise SystemExit("registry did not start: " + sh(f"cat {reg}/log")[-500:])


def phase_image() -> None:
    with open(os.path.join(WORK, "builder.py")) as f:
        builder = f.read()
    subprocess.run([sys.executable, "-c", builder, os.path.join(WORK, "bb"), "latest"], check=True,
                   stdout=subprocess.DEVNULL)
    start_registry()
    # "docker.io/kubeform-test/busybox:crun" must come from the mirror under the same path
    sh(f"skopeo copy --quiet --dest-cert-dir {WORK}/reg oci:{WORK}/bb:latest docker://127.0.0.1:{REG_PORT}/{REF}")
    d = crun.CrunDriver(Config())
    t = time.time()
    info = d.ensure_image(REF, "IfNotPresent")
    pull_s = time.time() - t
    t = time.time()
    again = d.ensure_image(REF, "IfNotPresent")
    cached_s = time.time() - t
    never = d.ensure_image(REF, "Never")
    errors = {}  # type: Dict[str, List[str]]
    for ref, policy in (("kubeform-test/not-there:1", "Never"), ("kubeform-test/not-there:1", "IfNotPresent"),
                        ("Bad/Name", "IfNotPresent")):
        try:
            d.ensure_image(ref, policy)
            errors[ref + " " + policy] = ["no error"]
        except PullError as exc:
            errors[ref + " " + policy] = [exc.reason, exc.message]
    out(image=info._asdict(), same=(again == info == never), pull_s=pull_s, cached_s=cached_s, errors=errors,
        rootfs=os.path.isfile(os.path.join(d.images.rootfs(info.digest), "bin", "busybox")))


def specs(d: crun.CrunDriver) -> dict[str, ContainerSpec]:
    img = d.ensure_image(REF, "Never")

    def c(name: str, script: str) -> ContainerSpec:
        return ContainerSpec(UID, "default", "crunpod", name, 0, img, ["sh", "-c", script], list(img.env), "",
                             None, None, [], log_path(name), "crunpod")

    return {
        "server": c("server", "echo serving as $(hostname); mkdir -p /tmp/www; echo hello-over-localhost"
                              " > /tmp/www/index.html; exec httpd -f -p 8080 -h /tmp/www"),
        "client": c("client", "trap 'echo got TERM; exit 0' TERM; while true; do wget -q -O - "
                              "http://127.0.0.1:8080/ && break; sleep 0.1; done; echo line2 >&2;"
                              " while true; do sleep 0.1; done"),
        "once": c("once", "echo bye; exit 3"),
        "orphan": c("orphan", "while true; do sleep 0.1; done"),
    }


def phase_start() -> None:
    d = crun.CrunDriver(Config())
    spec = SandboxSpec(UID, "default", "crunpod", "crunpod", HOST_PORTS)
    t = time.time()
    sb = d.run_sandbox(spec)
    sandbox_s = time.time() - t
    times = {}  # type: Dict[str, float]
    for name, cs in specs(d).items():
        t = time.time()
        d.start_container(sb, cs)
        times[name] = time.time() - t
    with open(cni.load_node_conflist(Config.subnet_env, Config.cni_conf_dir)["plugins"][0]["ipam"]["dataDir"]
              + "/kubeform/" + sb.ip) as f:
        owner = f.read().split()[0]
    out(sandbox=sb._asdict(), sandbox_s=sandbox_s, start_s=times, ipam_owner=owner,
        subnet=cni.parse_subnet_env(open(Config.subnet_env).read()).subnet,
        hosts=open(d.net.files(UID)["/etc/hosts"]).read().splitlines()[-1])
    os.kill(os.getpid(), signal.SIGKILL)  # the agent dies hard; its containers must not


def phase_check() -> None:
    d = crun.CrunDriver(Config())
    # wait for the two logs to show the localhost exchange (the client retries until then)
    deadline = time.time() + 10
    while time.time() < deadline and "line2" not in _read(log_path("client")):
        time.sleep(0.1)
    sbs = [s._asdict() for s in d.list_sandboxes()]
    again = d.run_sandbox(SandboxSpec(UID, "default", "crunpod", "crunpod", HOST_PORTS))
    cs = {c.name: c for c in d.list_containers()}
    restarted = {n: d.start_container(again, s).id for n, s in specs(d).items() if n not in ("once", "orphan")}
    # a shim killed on its own: its container still runs and must be reported running
    orphan_dir = d.container_dir(cs["orphan"].id)
    os.kill(json.loads(_read(os.path.join(orphan_dir, "shim.json")))["shim_pid"], signal.SIGKILL)
    time.sleep(0.2)
    orphan = [c.state for c in d.list_containers() if c.name == "orphan"]
    exec_out = subprocess.run(d.exec_argv(cs["server"].id, ["cat", "/etc/resolv.conf"], False, False),
                              stdout=subprocess.PIPE, text=True).stdout
    usage = d.usage(UID)
    node_ip = sh("hostname -I").split()[0]
    hostport = sh(f"curl -s --max-time 3 http://{node_ip}:18080/")
    shims = shim_pids()
    t = time.time()
    d.stop_container(cs["client"].id, 10)  # traps TERM: ends at once, code 0
    client_stop_s = time.time() - t
    t = time.time()
    d.stop_container(cs["server"].id, 1)  # httpd as pid 1 ignores TERM: KILL after 1 s
    server_stop_s = time.time() - t
    ended = {c.name: c._asdict() for c in d.list_containers()}
    out(sandboxes=sbs, again=again._asdict(), containers={n: c._asdict() for n, c in cs.items()},
        restarted=restarted, exec=exec_out, usage=usage, client_stop_s=client_stop_s,
        server_stop_s=server_stop_s, ended=ended,
        logs={n: _read(log_path(n)).splitlines() for n in ("server", "client", "once")},
        shims=len(shims), hostport=hostport, orphan=orphan)
    t = time.time()
    for c in d.list_containers():  # as the lifecycle does: exited containers outlive the sandbox
        if c.pod_uid == UID:
            d.remove_container(c.id)
    d.remove_sandbox(UID)
    remove_s = time.time() - t
    out(remove_s=remove_s, left=leftovers(d))


def leftovers(d: crun.CrunDriver) -> dict[str, Any]:
    """What the pod could have left: netns, crun containers, bundles, mounts, shims, IP."""
    netns = os.path.basename(d.net.netns_path(UID))
    return {
        "netns": os.path.exists(d.net.netns_path(UID)),
        "crun": sorted(k for k in crun.crun_list() if UID in k),
        "containers": sorted(os.listdir(d.containers_dir)) if os.path.isdir(d.containers_dir) else [],
        "pods": sorted(os.listdir(os.path.join(STATE, "pods"))) if os.path.isdir(os.path.join(STATE, "pods")) else [],
        "mounts": [ln for ln in _read("/proc/self/mountinfo").splitlines() if STATE in ln or netns in ln],
        "shims": shim_pids(),
        "hostport_rules": sh("iptables-save -t nat | grep -c 'dport 18080' || true").strip(),
        "ips": sh(f"grep -rl {crun.sandbox_id(UID)} /run/kubeform/cni/networks 2>/dev/null || true").split(),
    }


def shim_pids() -> list[int]:
    """The live shims keeping containers of our state dir: those their shim.json names, a
    shim's process (cmdline) with the recorded start time. Shims forked by the agent's
    shim server carry the server's cmdline, not their bundle's path."""
    pids = []
    root = os.path.join(STATE, "containers")
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        d = os.path.join(root, name)
        state = shim.read_state(d, shim.SHIM_FILE)
        if state is not None and crun.shim_alive(state, d):
            pids.append(int(state["shim_pid"]))
    return pids


def phase_cleanup() -> None:
    if os.path.isdir(os.path.join(WORK, "code")):
        try:
            out(removed=crun.remove_all(crun.CrunDriver(Config())))
        except Exception as exc:
            out(cleanup_error=str(exc))
    pid = _read(os.path.join(WORK, "reg", "pid")).strip()
    if pid:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
    sh(f"umount -l {WORK}/state/containers/*/rootfs 2>/dev/null")
    shutil.rmtree(WORK, ignore_errors=True)
    out(cleaned=not os.path.exists(WORK))


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


{"image": phase_image, "start": phase_start, "check": phase_check, "cleanup": phase_cleanup}[PHASE]()
