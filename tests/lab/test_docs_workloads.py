"""The Kubernetes documentation's workload manifests, tried on the lab as a new user would.

Each test applies a manifest of tests/data/docs_manifests/ unchanged with
``kubeform apply -f`` (its images are the stand-ins of tests/lab/standin_images.py, pushed
under the documentation's names) and checks what the documentation's page says the user
sees, with the page's own commands where kubeform has them:

- Deployments (nginx-deployment.yaml): 3 replicas ready, ``get deployments``/``get rs``
  columns, ``set image deployment/nginx-deployment nginx=nginx:1.16.1``, ``rollout status``,
  ``rollout history`` (and ``--revision=2``), ``rollout undo``;
- ReplicaSet (frontend.yaml): ``get rs``, ``describe rs/frontend``'s events, the pods'
  ownerReferences;
- StatefulSet tutorial (web.yaml): the headless service, web-0 Running and Ready before
  web-1 is made, hostnames (and /etc/hosts' web-0.nginx.default.svc.cluster.local), claims
  www-web-0/1 Bound, each pod's page kept across ``delete pod -l app=nginx``;
- DaemonSet (daemonset.yaml in kube-system): one pod on every node, the control plane too
  (its tolerations), each with its ``Created pod:`` event;
- Job (job.yaml): ``get pods --selector=batch.kubernetes.io/job-name=pi``, ``describe job``'s
  labels and ``Created pod:`` event, Complete, the log prints pi to 2000 digits;
- CronJob (cronjob.yaml): a Job ``hello-<minutes since the epoch>`` within about a
  minute, its pod printing the date and the greeting;
- HorizontalPodAutoscaler walkthrough (php-apache.yaml, hpa-php-apache.yaml): under the
  page's load generator the HPA scales php-apache up. Only up: the manifest has no
  ``behavior``, so scaling down waits the default 5-minute stabilization window.

Where the page uses a verb kubeform does not have, the test does the same with apply and
says so: ``kubectl autoscale`` is hpa-php-apache.yaml (the HPA it makes, as the page shows
it); ``kubectl run load-generator`` is the same Pod applied; ``curl`` inside nginx-slim is
busybox's ``wget -qO-`` (the stand-in has no curl); ``get pods --show-labels`` reads the
labels from ``-o json``.

The cron job is applied first (module fixture), so its first run happens while the other
tests run. Everything is deleted at the end, also on failure.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab import standin_images
from tests.lab.conftest import PodsCluster
from tests.lab.remote import wait_for
from tests.lab.test_pods import kexec

pytestmark = pytest.mark.lab

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs_manifests"
#: The stand-ins these manifests need (debian is for other pages).
STANDINS = ("nginx", "busybox", "perl", "hpa-example", "fluentd")
#: The first 50 decimals of pi, as `perl -Mbignum=bpi -wle "print bpi(2000)"` starts.
PI_50 = "3.14159265358979323846264338327950288419716939937510"


def manifest(name: str) -> str:
    return str(DOCS / name)


def rows(text: str) -> list[dict[str, str]]:
    """A kubectl-like table as dicts, cut at the header's column starts (cells may hold
    single spaces, as ``* * * * *`` or ``cpu: 7%/50%`` do, or be empty)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", header)]  # "LAST SCHEDULE" is one
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    names = [header[s:e].strip() for s, e in bounds]
    out = []
    for line in lines[1:]:
        cells = [line[s:e].strip() for s, e in bounds]
        out.append(dict(zip(names, cells, strict=True)))
    return out


def row(text: str, name: str) -> dict[str, str]:
    for r in rows(text):
        if r.get("NAME") == name:
            return r
    return {}


def get_json(c: PodsCluster, *args: str) -> dict[str, Any]:
    proc = c.kf("get", *args, "-o", "json", check=False)
    return dict(json.loads(proc.stdout)) if proc.returncode == 0 and proc.stdout.strip() else {}


def items(c: PodsCluster, *args: str) -> list[dict[str, Any]]:
    data = get_json(c, *args)
    if not data:
        return []
    return list(data.get("items", [data] if data.get("kind") not in (None, "List") else []))


def ready(pod: dict[str, Any]) -> bool:
    return any(x.get("type") == "Ready" and x.get("status") == "True"
               for x in (pod.get("status") or {}).get("conditions") or [])


def live(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def diagnose(c: PodsCluster, namespace: str = "default") -> str:
    """What a failed wait leaves for the reader: pods, workloads, events, the reconciler."""
    return "\n".join([
        c.kf("get", "pods", "-n", namespace, "-o", "wide", check=False).stdout,
        c.kf("get", "deploy,rs,sts,ds,job,cronjob,hpa", "-n", namespace, check=False).stdout,
        c.kf("get", "events", "-n", namespace, check=False).stdout[-3000:],
        c.ssh("kf-master1", "journalctl -u kubeform-reconciler --no-pager | tail -30", check=False),
    ])


@pytest.fixture(scope="module")
def docs(pods_cluster: PodsCluster) -> Iterator[PodsCluster]:
    """The stand-ins pushed under the docs' names; the docs' cron job applied first (its
    first run falls while the other tests run); every docs object deleted at the end."""
    c = pods_cluster
    standin_images.push_all(c.kf, STANDINS)
    try:
        out = c.kf("apply", "-f", manifest("cronjob.yaml")).stdout
        assert "cronjob.batch/hello created" in out, out
        yield c
    finally:
        for name in ("cronjob.yaml", "job.yaml", "nginx-deployment.yaml", "frontend.yaml", "web.yaml",
                     "daemonset.yaml", "hpa-php-apache.yaml", "php-apache.yaml"):
            c.kf("delete", "-f", manifest(name), check=False)
        c.kf("delete", "pod", "load-generator", check=False)
        c.kf("delete", "pvc", "-l", "app=nginx", check=False)


def test_deployment_rolls_out_updates_and_rolls_back(docs: PodsCluster) -> None:
    c = docs
    out = c.kf("apply", "-f", manifest("nginx-deployment.yaml")).stdout
    assert out.strip() == "deployment.apps/nginx-deployment created", out
    head = c.kf("get", "deployments").stdout.splitlines()[0].split()
    assert head == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], head
    status = c.kf("rollout", "status", "deployment/nginx-deployment", timeout=240)
    assert status.stdout.strip().endswith('deployment "nginx-deployment" successfully rolled out'), status.stdout
    dep = row(c.kf("get", "deployments").stdout, "nginx-deployment")
    assert (dep["READY"], dep["UP-TO-DATE"], dep["AVAILABLE"]) == ("3/3", "3", "3"), dep

    # `kubectl get rs`: nginx-deployment-<pod-template-hash>, 3 3 3
    rs = rows(c.kf("get", "rs").stdout)
    first = [r for r in rs if r["NAME"].startswith("nginx-deployment-")]
    assert len(first) == 1 and (first[0]["DESIRED"], first[0]["CURRENT"], first[0]["READY"]) == ("3", "3", "3"), rs
    hash1 = first[0]["NAME"].removeprefix("nginx-deployment-")
    # `kubectl get pods --show-labels`: app=nginx,pod-template-hash=<the same hash>
    pods = live(items(c, "pods", "-l", "app=nginx"))
    assert len(pods) == 3 and all(p["metadata"]["labels"] == {"app": "nginx", "pod-template-hash": hash1} for p in pods), pods
    page = kexec(c, pods[0]["metadata"]["name"], "wget", "-qO-", "http://localhost/").stdout
    assert "Welcome to nginx!" in page, page

    # the update: `kubectl set image deployment/nginx-deployment nginx=nginx:1.16.1`
    out = c.kf("set", "image", "deployment/nginx-deployment", "nginx=nginx:1.16.1").stdout
    assert out.strip() == "deployment.apps/nginx-deployment image updated", out
    status = c.kf("rollout", "status", "deployment/nginx-deployment", timeout=240)
    assert status.stdout.strip().endswith('deployment "nginx-deployment" successfully rolled out'), status.stdout
    rs = {r["NAME"]: r for r in rows(c.kf("get", "rs").stdout) if r["NAME"].startswith("nginx-deployment-")}
    old = rs.pop(f"nginx-deployment-{hash1}")
    assert (old["DESIRED"], old["CURRENT"], old["READY"]) == ("0", "0", "0"), old
    assert len(rs) == 1 and [(r["DESIRED"], r["CURRENT"], r["READY"]) for r in rs.values()] == [("3", "3", "3")], rs
    wait_for("the old pods gone", lambda: len(live(items(c, "pods", "-l", "app=nginx"))) == 3, timeout=90,
             diagnose=lambda: diagnose(c))
    images = {p["spec"]["containers"][0]["image"] for p in live(items(c, "pods", "-l", "app=nginx"))}
    assert images == {"nginx:1.16.1"}, images
    described = c.kf("describe", "deployments").stdout
    assert f"Scaled up replica set nginx-deployment-{hash1} from 0 to 3" in described, described
    assert "Scaled down replica set" in described and "nginx:1.16.1" in described, described

    # `kubectl rollout history`, then the page's `--revision=2`
    history = c.kf("rollout", "history", "deployment/nginx-deployment").stdout
    assert history.startswith("deployment.apps/nginx-deployment"), history
    assert [r["REVISION"] for r in rows("\n".join(history.splitlines()[1:]))] == ["1", "2"], history
    rev2 = c.kf("rollout", "history", "deployment/nginx-deployment", "--revision=2").stdout
    assert "revision #2" in rev2 and "nginx:1.16.1" in rev2, rev2

    # `kubectl rollout undo deployment/nginx-deployment`: back to nginx:1.14.2, as revision 3
    out = c.kf("rollout", "undo", "deployment/nginx-deployment").stdout
    assert out.strip() == "deployment.apps/nginx-deployment rolled back", out
    c.kf("rollout", "status", "deployment/nginx-deployment", timeout=240)
    wait_for("the undone pods", lambda: {p["spec"]["containers"][0]["image"] for p in live(items(c, "pods", "-l", "app=nginx"))}
             == {"nginx:1.14.2"}, timeout=90, diagnose=lambda: diagnose(c))
    history = c.kf("rollout", "history", "deployment/nginx-deployment").stdout
    assert [r["REVISION"] for r in rows("\n".join(history.splitlines()[1:]))] == ["2", "3"], history
    assert row(c.kf("get", "rs").stdout, f"nginx-deployment-{hash1}")["READY"] == "3"
    c.kf("delete", "-f", manifest("nginx-deployment.yaml"))


def test_replicaset_frontend(docs: PodsCluster) -> None:
    c = docs
    out = c.kf("apply", "-f", manifest("frontend.yaml")).stdout
    assert out.strip() == "replicaset.apps/frontend created", out

    def three() -> dict[str, str] | None:
        r = row(c.kf("get", "rs").stdout, "frontend")
        return r if (r.get("DESIRED"), r.get("CURRENT"), r.get("READY")) == ("3", "3", "3") else None

    wait_for("get rs: frontend 3 3 3", three, timeout=120, every=2, diagnose=lambda: diagnose(c))
    described = c.kf("describe", "rs/frontend").stdout
    assert re.search(r"^Selector:\s+tier=frontend$", described, re.M), described
    assert len(re.findall(r"SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: frontend-\w{5}", described)) == 3, described
    pods = live(items(c, "pods", "-l", "tier=frontend"))
    assert len(pods) == 3, pods
    for p in pods:
        ref = p["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["name"], ref["controller"]) == ("ReplicaSet", "frontend", True), ref
        assert re.fullmatch(r"frontend-[a-z0-9]{5}", p["metadata"]["name"]), p["metadata"]["name"]
    c.kf("delete", "-f", manifest("frontend.yaml"))
    wait_for("the frontend pods gone", lambda: not live(items(c, "pods", "-l", "tier=frontend")), timeout=60)


def test_statefulset_web_order_identity_and_storage(docs: PodsCluster) -> None:
    c = docs
    out = c.kf("apply", "-f", manifest("web.yaml")).stdout
    assert out.splitlines() == ["service/nginx created", "statefulset.apps/web created"], out
    svc = row(c.kf("get", "service", "nginx").stdout, "nginx")
    assert (svc["TYPE"], svc["CLUSTER-IP"], svc["EXTERNAL-IP"], svc["PORT(S)"]) == ("ClusterIP", "None", "<none>", "80/TCP"), svc

    def both() -> dict[str, str] | None:
        r = row(c.kf("get", "statefulset", "web").stdout, "web")
        return r if r.get("READY") == "2/2" else None

    wait_for("get statefulset web: 2/2", both, timeout=150, every=2, diagnose=lambda: diagnose(c))
    pods = {p["metadata"]["name"]: p for p in live(items(c, "pods", "-l", "app=nginx"))}
    assert sorted(pods) == ["web-0", "web-1"], sorted(pods)
    # OrderedReady: web-1 was made only once web-0 was Running and Ready
    ready0 = next(x["lastTransitionTime"] for x in pods["web-0"]["status"]["conditions"] if x["type"] == "Ready")
    assert pods["web-1"]["metadata"]["creationTimestamp"] >= ready0, (ready0, pods["web-1"]["metadata"])
    for i in (0, 1):
        assert kexec(c, f"web-{i}", "sh", "-c", "hostname").stdout.strip() == f"web-{i}"
        assert (pods[f"web-{i}"]["spec"]["hostname"], pods[f"web-{i}"]["spec"]["subdomain"]) == (f"web-{i}", "nginx")
        hosts = kexec(c, f"web-{i}", "cat", "/etc/hosts").stdout  # as the kubelet writes it
        assert re.search(rf"^\S+\tweb-{i}\.nginx\.default\.svc\.cluster\.local\tweb-{i}$", hosts, re.M), hosts
    claims = rows(c.kf("get", "pvc", "-l", "app=nginx").stdout)
    assert [(r["NAME"], r["STATUS"], r["CAPACITY"], r["ACCESS MODES"]) for r in claims] == [
        ("www-web-0", "Bound", "1Gi", "RWO"), ("www-web-1", "Bound", "1Gi", "RWO")], claims
    assert all(r["VOLUME"].startswith("pvc-") for r in claims), claims

    # the page writes each pod's hostname into its index.html, deletes the pods, and reads it back
    for i in (0, 1):
        kexec(c, f"web-{i}", "sh", "-c", 'echo "$(hostname)" > /usr/share/nginx/html/index.html')
        assert kexec(c, f"web-{i}", "wget", "-qO-", "http://localhost/").stdout.strip() == f"web-{i}"
    uids = {n: p["metadata"]["uid"] for n, p in pods.items()}
    out = c.kf("delete", "pod", "-l", "app=nginx").stdout
    assert sorted(out.splitlines()) == ["pod/web-0 deleted", "pod/web-1 deleted"], out

    def back() -> bool:
        now = {p["metadata"]["name"]: p for p in live(items(c, "pods", "-l", "app=nginx"))}
        return sorted(now) == ["web-0", "web-1"] and all(ready(p) and p["metadata"]["uid"] != uids[n] for n, p in now.items())

    wait_for("web-0 and web-1 back, Ready", back, timeout=150, every=2, diagnose=lambda: diagnose(c))
    for i in (0, 1):
        assert kexec(c, f"web-{i}", "wget", "-qO-", "http://localhost/").stdout.strip() == f"web-{i}"
    c.kf("delete", "-f", manifest("web.yaml"))
    wait_for("the web pods gone", lambda: not live(items(c, "pods", "-l", "app=nginx")), timeout=90)
    c.kf("delete", "pvc", "-l", "app=nginx")


def test_daemonset_runs_on_every_node(docs: PodsCluster) -> None:
    c = docs
    out = c.kf("apply", "-f", manifest("daemonset.yaml")).stdout
    assert out.strip() == "daemonset.apps/fluentd-elasticsearch created", out
    nodes = sorted(n["metadata"]["name"] for n in items(c, "nodes"))
    tainted = [n["metadata"]["name"] for n in items(c, "nodes")
               if any(t.get("key") == "node-role.kubernetes.io/control-plane" for t in (n.get("spec") or {}).get("taints") or [])]
    assert tainted, "the lab's control plane carries no taint: the tolerations are not tried"
    want = str(len(nodes))

    def all_ready() -> dict[str, str] | None:
        r = row(c.kf("get", "ds", "-n", "kube-system").stdout, "fluentd-elasticsearch")
        cells = (r.get("DESIRED"), r.get("CURRENT"), r.get("READY"), r.get("UP-TO-DATE"), r.get("AVAILABLE"))
        return r if cells == (want,) * 5 else None

    ds = wait_for("every node's fluentd ready", all_ready, timeout=120, every=2, diagnose=lambda: diagnose(c, "kube-system"))
    assert ds["NODE SELECTOR"] == "<none>", ds
    pods = live(items(c, "pods", "-n", "kube-system", "-l", "name=fluentd-elasticsearch"))
    assert sorted(p["spec"]["nodeName"] for p in pods) == nodes, pods
    log = c.kf("logs", "-n", "kube-system", pods[0]["metadata"]["name"]).stdout
    assert "fluentd" in log, log
    described = c.kf("describe", "ds", "fluentd-elasticsearch", "-n", "kube-system").stdout
    for p in pods:
        assert f"Created pod: {p['metadata']['name']}" in described, described
    c.kf("delete", "-f", manifest("daemonset.yaml"))


def test_job_pi(docs: PodsCluster) -> None:
    c = docs
    out = c.kf("apply", "-f", manifest("job.yaml")).stdout
    assert out.strip() == "job.batch/pi created", out

    def pod_names() -> list[str]:
        # the page: pods=$(kubectl get pods --selector=batch.kubernetes.io/job-name=pi --output=jsonpath=...)
        return [p["metadata"]["name"] for p in items(c, "pods", "--selector=batch.kubernetes.io/job-name=pi")]

    names = wait_for("the pi pod", pod_names, timeout=60, every=2, diagnose=lambda: diagnose(c))
    described = c.kf("describe", "job", "pi").stdout
    assert "batch.kubernetes.io/job-name=pi" in described, described
    assert re.search(r"SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: " + re.escape(names[0]), described), described

    def finished() -> str | None:
        r = row(c.kf("get", "job", "pi").stdout, "pi")
        if r.get("STATUS") == "Complete":
            return "Complete"
        logs = " ".join(c.kf("logs", n, check=False).stdout for n in pod_names())
        return "broken perl" if "Can't locate" in logs else None

    outcome = wait_for("job pi Complete", finished, timeout=150, every=3, diagnose=lambda: diagnose(c))
    assert outcome == "Complete", "the perl:5.34.0 stand-in cannot load its modules (tests/lab/standin_images.py)"
    r = row(c.kf("get", "job", "pi").stdout, "pi")
    assert (r["STATUS"], r["COMPLETIONS"]) == ("Complete", "1/1") and r["DURATION"], r
    names = pod_names()
    digits = c.kf("logs", names[0]).stdout.strip()
    assert digits.startswith(PI_50) and len(digits) >= 2000, digits[:200]
    assert "Job completed" in c.kf("describe", "job", "pi").stdout
    c.kf("delete", "-f", manifest("job.yaml"))


def test_hpa_scales_php_apache_up_under_load(docs: PodsCluster) -> None:
    c = docs
    out = c.kf("apply", "-f", manifest("php-apache.yaml")).stdout
    assert out.splitlines() == ["deployment.apps/php-apache created", "service/php-apache created"], out
    # `kubectl autoscale deployment php-apache --cpu-percent=50 --min=1 --max=10`, as the HPA it makes
    out = c.kf("apply", "-f", manifest("hpa-php-apache.yaml")).stdout
    assert out.strip() == "horizontalpodautoscaler.autoscaling/php-apache created", out
    c.kf("rollout", "status", "deployment/php-apache", timeout=180)
    hpa = rows(c.kf("get", "hpa").stdout)
    assert list(hpa[0]) == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"], hpa
    assert (hpa[0]["REFERENCE"], hpa[0]["MINPODS"], hpa[0]["MAXPODS"]) == ("Deployment/php-apache", "1", "10"), hpa
    assert re.fullmatch(r"cpu: (<unknown>|\d+%)/50%", hpa[0]["TARGETS"]), hpa

    # the page's load generator: kubectl run -i --tty load-generator --rm --image=busybox:1.28
    #   --restart=Never -- /bin/sh -c "while sleep 0.01; do wget -q -O- http://php-apache; done"
    path = c.workdir / "load-generator.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: load-generator\n  labels: {run: load-generator}\n"
        "spec:\n  restartPolicy: Never\n  containers:\n  - name: load-generator\n    image: busybox:1.28\n"
        '    command: ["/bin/sh", "-c", "while sleep 0.01; do wget -q -O- http://php-apache; done"]\n'
    )
    seen: list[dict[str, str]] = []
    try:
        c.kf("apply", "-f", str(path))
        # (its output, "OK!OK!OK!..." with no newline, shows in `logs` only once a line is
        # complete, as with containerd's line-based logs: not waited for)
        wait_for("the load generator Running",
                 lambda: (get_json(c, "pod", "load-generator").get("status") or {}).get("phase") == "Running",
                 timeout=90, every=2, diagnose=lambda: diagnose(c))

        def scaled() -> dict[str, str] | None:
            r = row(c.kf("get", "hpa", "php-apache").stdout, "php-apache")
            seen.append(r)
            return r if r.get("REPLICAS", "1").isdigit() and int(r["REPLICAS"]) > 1 else None

        wait_for("the HPA to scale php-apache up", scaled, timeout=150, every=3,
                     diagnose=lambda: f"hpa rows: {seen[-5:]}\n{c.kf('top', 'pods', check=False).stdout}\n{diagnose(c)}")
    finally:
        c.kf("delete", "pod", "load-generator", check=False)  # the page's Ctrl+C
    above = [int(m.group(1)) for s in seen if (m := re.fullmatch(r"cpu: (\d+)%/50%", s.get("TARGETS", "")))]
    assert above and max(above) > 50, seen
    events = c.kf("get", "events").stdout
    assert re.search(r"New size: \d+; reason: cpu resource utilization \(percentage of request\) above target", events), events
    dep = row(c.kf("get", "deployment", "php-apache").stdout, "php-apache")
    assert int(dep["READY"].split("/")[1]) > 1, dep  # `kubectl get deployment php-apache`: n/n
    c.kf("delete", "-f", manifest("hpa-php-apache.yaml"))
    c.kf("delete", "-f", manifest("php-apache.yaml"))


def test_cronjob_hello_runs_every_minute(docs: PodsCluster) -> None:
    """Applied by the fixture before the other tests; its first Job is due within a minute."""
    c = docs
    cron = rows(c.kf("get", "cronjob", "hello").stdout)
    assert list(cron[0]) == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"], cron
    assert (cron[0]["SCHEDULE"], cron[0]["TIMEZONE"], cron[0]["SUSPEND"]) == ("* * * * *", "<none>", "False"), cron

    def done_job() -> str | None:
        for r in rows(c.kf("get", "jobs").stdout):
            if r["NAME"].startswith("hello-") and r.get("STATUS") == "Complete" and r.get("COMPLETIONS") == "1/1":
                return r["NAME"]
        return None

    name = wait_for("a hello job Complete", done_job, timeout=150, every=3, diagnose=lambda: diagnose(c))
    # hello-<scheduled time in minutes since the epoch>, as the CronJob controller names them
    minute = int(name.removeprefix("hello-"))
    assert abs(minute * 60 - time.time()) < 600, name
    pods = items(c, "pods", f"--selector=batch.kubernetes.io/job-name={name}")
    assert pods, name
    log = c.kf("logs", pods[0]["metadata"]["name"]).stdout.splitlines()
    assert log[-1] == "Hello from the Kubernetes cluster", log
    # `date`'s line, a few seconds after the scheduled minute
    printed = datetime.datetime.strptime(log[0], "%a %b %d %H:%M:%S UTC %Y").replace(tzinfo=datetime.UTC)
    assert 0 <= printed.timestamp() - minute * 60 < 180, (log, name)
    last = row(c.kf("get", "cronjob", "hello").stdout, "hello")["LAST SCHEDULE"]
    assert re.fullmatch(r"\d+s|\d+m(\d+s)?", last), last
