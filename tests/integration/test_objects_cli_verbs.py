"""The Kubernetes docs' imperative walkthroughs against a real TLS etcd: run, expose,
autoscale, create deployment|job|service, get all, -o jsonpath/custom-columns/name.

The objects go through apply's path (validation, defaults, ClusterIP/NodePort allocation),
so what `get` shows afterwards is what `apply` of the same manifest would have stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from kubeform.cli.main import main

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]

pytestmark = pytest.mark.integration

CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            command: [/bin/sh, -c, date; echo Hello from the Kubernetes cluster]
          restartPolicy: OnFailure
"""


def run(capsys: pytest.CaptureFixture[str], etcd: EtcdServer, *argv: str) -> tuple[int, str, str]:
    args = list(argv)
    at = args.index("--") if "--" in args else len(args)  # the words after -- are the pod's
    rc = main([*args[:at], "--cluster", str(etcd.cluster.path), *args[at:]])
    out, err = capsys.readouterr()
    return rc, out, err


def test_hpa_walkthrough(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    """create deployment -> expose -> autoscale, then get all as kubectl shows it."""
    rc, out, err = run(capsys, etcd_clean, "get", "all")
    assert (rc, out, err) == (0, "", "No resources found in default namespace.\n")
    rc, out, _ = run(capsys, etcd_clean, "create", "deployment", "php-apache",
                     "--image=registry.k8s.io/hpa-example", "--port=80")
    assert (rc, out) == (0, "deployment.apps/php-apache created\n")
    rc, out, _ = run(capsys, etcd_clean, "expose", "deployment", "php-apache", "--port=80", "--type=NodePort")
    assert (rc, out) == (0, "service/php-apache exposed\n")
    rc, out, _ = run(capsys, etcd_clean, "autoscale", "deployment", "php-apache", "--cpu-percent=50", "--min=1", "--max=10")
    assert (rc, out) == (0, "horizontalpodautoscaler.autoscaling/php-apache autoscaled\n")

    rc, out, _ = run(capsys, etcd_clean, "get", "svc", "php-apache", "-o",
                     "jsonpath={.spec.selector.app} {.spec.ports[0].targetPort} {.spec.ports[0].nodePort}")
    app, target, node_port = out.split()
    assert (app, target) == ("php-apache", "80") and 30000 <= int(node_port) <= 32767  # allocated as by apply
    rc, out, _ = run(capsys, etcd_clean, "get", "hpa", "php-apache", "-o", "yaml")
    hpa = yaml.safe_load(out)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 50}
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "php-apache"}

    rc, out, _ = run(capsys, etcd_clean, "run", "load-generator", "--image=busybox:1.28", "--restart=Never",
                     "--", "/bin/sh", "-c", "while sleep 0.01; do wget -q -O- http://php-apache; done")
    assert (rc, out) == (0, "pod/load-generator created\n")
    rc, _, err = run(capsys, etcd_clean, "run", "load-generator", "--image=busybox:1.28")
    assert rc == 1 and err == 'kubeform: error: pods "load-generator" already exists in namespace default\n'

    rc, out, _ = run(capsys, etcd_clean, "get", "all")
    blocks = out.split("\n\n")
    assert [b.splitlines()[1].split()[0] for b in blocks] == [
        "pod/load-generator", "service/php-apache", "deployment.apps/php-apache",
        "horizontalpodautoscaler.autoscaling/php-apache",
    ]
    assert blocks[1].splitlines()[0].split()[:3] == ["NAME", "TYPE", "CLUSTER-IP"]
    rc, out, _ = run(capsys, etcd_clean, "get", "all", "-o", "name")
    assert out.splitlines() == ["pod/load-generator", "service/php-apache", "deployment.apps/php-apache",
                                "horizontalpodautoscaler.autoscaling/php-apache"]
    rc, out, _ = run(capsys, etcd_clean, "get", "all", "-l", "app=php-apache", "-o", "name")
    assert out.splitlines() == ["service/php-apache", "deployment.apps/php-apache"]
    rc, out, err = run(capsys, etcd_clean, "get", "all", "-n", "kube-system")
    assert err == "No resources found in kube-system namespace.\n"

    rc, out, _ = run(capsys, etcd_clean, "get", "pods", "-o",
                     "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image,RESTART:.spec.restartPolicy")
    assert out.splitlines() == ["NAME             IMAGE          RESTART", "load-generator   busybox:1.28   Never"]
    rc, out, _ = run(capsys, etcd_clean, "get", "pods,deploy", "-o",
                     'jsonpath={range .items[*]}{.kind}/{.metadata.name}{"\\n"}{end}')
    assert out == "Pod/load-generator\nDeployment/php-apache\n"


def test_dry_runs_store_nothing(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, out, _ = run(capsys, etcd_clean, "create", "service", "clusterip", "my-cs", "--tcp=5678:8080",
                     "--dry-run=server", "-o", "jsonpath={.spec.clusterIP}")
    assert rc == 0 and out.startswith("10.")  # allocated as apply would, then not stored
    rc, out, _ = run(capsys, etcd_clean, "run", "nginx", "--image=nginx", "--dry-run=client", "-o", "yaml")
    assert yaml.safe_load(out)["metadata"] == {"labels": {"run": "nginx"}, "name": "nginx"}
    rc, out, _ = run(capsys, etcd_clean, "create", "deployment", "web", "--image=nginx", "--dry-run")
    assert out == "deployment.apps/web created (dry run)\n"
    rc, out, err = run(capsys, etcd_clean, "get", "all")
    assert out == "" and "No resources found" in err
    # the docs' habit: generate a manifest, then apply it
    rc, out, _ = run(capsys, etcd_clean, "create", "deployment", "web", "--image=nginx", "--dry-run=client", "-o", "yaml")
    manifest = tmp_path / "web.yaml"
    manifest.write_text(out)
    rc, out, _ = run(capsys, etcd_clean, "apply", "-f", str(manifest))
    assert (rc, out) == (0, "deployment.apps/web created\n")
    rc, out, _ = run(capsys, etcd_clean, "diff", "-f", str(manifest))
    assert rc == 0
    rc, out, _ = run(capsys, etcd_clean, "create", "service", "clusterip", "my-cs", "--tcp=5678:8080")
    assert out == "service/my-cs created\n"
    rc, out, _ = run(capsys, etcd_clean, "get", "svc", "my-cs", "-o", "jsonpath={.spec.ports[0].name}")
    assert out == "5678-8080"


def test_job_from_cronjob(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "cj.yaml"
    f.write_text(CRONJOB)
    assert run(capsys, etcd_clean, "apply", "-f", str(f))[0] == 0
    rc, out, _ = run(capsys, etcd_clean, "create", "job", "hello-manual", "--from=cronjob/hello")
    assert (rc, out) == (0, "job.batch/hello-manual created\n")
    rc, out, _ = run(capsys, etcd_clean, "get", "job", "hello-manual", "-o", "json")
    job = yaml.safe_load(out)
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["metadata"]["ownerReferences"][0]["name"] == "hello"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"][0] == "/bin/sh"
    rc, out, _ = run(capsys, etcd_clean, "get", "jobs")
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert out.splitlines()[1].split()[:3] == ["hello-manual", "Running", "0/1"]
    rc, out, _ = run(capsys, etcd_clean, "create", "job", "pi", "--image=perl:5.34.0", "--",
                     "perl", "-Mbignum=bpi", "-wle", "print bpi(20)")
    assert out == "job.batch/pi created\n"


def test_mistakes_are_one_line(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in [
        (("get", "pods", "-o", "jsonpath={.items[0"), "error parsing jsonpath {.items[0: unclosed action"),
        (("get", "pods", "-o", "custom-columns=NAME"), "unexpected custom-columns spec: NAME"),
        (("get", "pods", "-o", "table"), "unknown output format 'table'"),
        (("run", "Bad_Name", "--image=nginx"), "invalid name 'Bad_Name'"),
        (("expose", "deployment", "nope", "--port=80"), '"nope" not found'),
        (("autoscale", "deployment", "nope", "--max=3"), '"nope" not found'),
        (("create", "job", "j"), "give either --image or --from=cronjob/NAME"),
        (("run", "x", "--image=busybox", "-it", "--rm"), "give --restart=Never (or OnFailure)"),
        (("run", "x", "--image=busybox", "-i", "--restart=Never", "--dry-run"), "--dry-run and -o cannot be used"),
    ]:
        rc, out, err = run(capsys, etcd_clean, *argv)
        assert rc == 1 and out == "" and message in err and err.count("\n") == 1, (argv, err)


def test_external_name_service(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    """EXTERNAL-IP shows spec.externalName, as kubectl's printer does."""
    rc, out, err = run(capsys, etcd_clean, "create", "service", "externalname", "db", "--external-name=db.example.com")
    assert (rc, out) == (0, "service/db created\n"), err
    rc, out, _ = run(capsys, etcd_clean, "get", "svc", "db")
    assert out.splitlines()[1].split()[:4] == ["db", "ExternalName", "<none>", "db.example.com"]


def test_attached_run_waits_then_removes(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    """-i --rm: no attach, so it waits for the pod to end; here nothing runs it (no
    reconciler), so it gives up after --pod-running-timeout and --rm still removes it."""
    rc, out, err = run(capsys, etcd_clean, "run", "-i", "--rm", "dns-test", "--image=busybox:1.28", "--restart=Never",
                       "--pod-running-timeout=1s", "--", "nslookup", "kubernetes.default")
    assert rc == 1 and out == ""
    assert "no attach" in err and 'timed out after 1s waiting for pod "dns-test" to start' in err
    assert 'pod "dns-test" deleted' in err
    rc, out, err = run(capsys, etcd_clean, "get", "pods")
    assert out == "" and "No resources found" in err


def test_table_flags(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    """--sort-by, -L, --show-labels, --no-headers as the docs use them."""
    for name, tier in (("b", "back"), ("a", "front"), ("c", "front")):
        assert run(capsys, etcd_clean, "run", name, "--image=nginx", f"--labels=app=web,tier={tier}")[0] == 0
    rc, out, _ = run(capsys, etcd_clean, "get", "pods", "--sort-by=.metadata.name", "--no-headers", "-o",
                     "custom-columns=N:.metadata.name")
    assert out == "a\nb\nc\n"
    rc, out, _ = run(capsys, etcd_clean, "get", "pods", "-L", "tier", "--show-labels", "-l", "tier=front")
    lines = out.splitlines()
    assert lines[0].split()[-2:] == ["TIER", "LABELS"]
    assert [ln.split()[-2:] for ln in lines[1:]] == [["front", "app=web,tier=front"]] * 2
    rc, out, err = run(capsys, etcd_clean, "get", "pods", "--sort-by={range .items[*]}{end}")
    assert rc == 1 and "--sort-by needs one field path" in err


def test_create_from_files(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """create -f: the docs' older spelling of apply, refusing what exists."""
    f = tmp_path / "cj.yaml"
    f.write_text(CRONJOB)
    rc, out, _ = run(capsys, etcd_clean, "create", "-f", str(f))
    assert (rc, out) == (0, "cronjob.batch/hello created\n")
    rc, out, err = run(capsys, etcd_clean, "create", "-f", str(f))
    assert rc == 1 and f'{f} (document 1): cronjobs "hello" already exists' in err and err.count("\n") == 1
    rc, _, err = run(capsys, etcd_clean, "create")
    assert rc == 1 and "give -f FILE, or WHAT NAME" in err
    rc, out, _ = run(capsys, etcd_clean, "create", "namespace", "team")
    assert (rc, out) == (0, "namespace/team created\n")


def test_watch_prints_a_row_per_change(
    etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """get -w: the table, then a row for a pod created meanwhile; Ctrl-C ends it."""
    import time

    assert run(capsys, etcd_clean, "run", "first", "--image=nginx")[0] == 0
    polls = []

    def tick(_seconds: float) -> None:
        polls.append(1)
        if len(polls) == 1:
            assert main(["run", "second", "--image=nginx", "--cluster", str(etcd_clean.cluster.path)]) == 0
        elif len(polls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(time, "sleep", tick)
    rc, out, err = run(capsys, etcd_clean, "get", "pods", "-w")
    lines = out.splitlines()
    assert rc == 130 and lines[0].split()[0] == "NAME" and lines[1].split()[0] == "first"
    assert lines[2] == "pod/second created" and lines[3].split()[:3] == ["second", "0/1", "Pending"]
    assert len(lines) == 4  # nothing changed at the third poll: no row
    rc, _, err = run(capsys, etcd_clean, "get", "pods,svc", "-w")
    assert rc == 1 and "--watch works on one kind" in err
