# The two entry points the README opens with. Both install what they need first.
.PHONY: demo test lint deps unit

VENV := .venv/bin
# Code that runs on cluster hosts (Python 3.6, stdlib only).
HOST_SIDE := kubeform/errors.py kubeform/api kubeform/agent kubeform/reconciler

deps:
	./scripts/install-deps.sh

# Main job: a local lab cluster, then kubeform up on it (needs root).
demo: deps
	$(VENV)/kubeform lab up
	$(VENV)/kubeform up inventory/lab.yml -y --cluster .kubeform/lab
	$(VENV)/kubeform get nodes --cluster .kubeform/lab
	# the examples' image, made here from busybox-static and pushed into the cluster registry
	$(VENV)/kubeform image make busybox -o .kubeform/busybox.tar
	$(VENV)/kubeform image push .kubeform/busybox.tar --name busybox:latest --name busybox:1.36 --cluster .kubeform/lab
	$(VENV)/kubeform apply -f examples/ --cluster .kubeform/lab
	# the workloads running: the Deployment rolled out, the StatefulSet's pods and the bare pods Ready
	$(VENV)/kubeform rollout status deployment/web -n demo --timeout 180s --cluster .kubeform/lab
	$(VENV)/kubeform wait --for=condition=Ready pod -l app=kv -n demo --timeout 180s --cluster .kubeform/lab
	$(VENV)/kubeform wait --for=condition=Ready pod hello ticker -n demo --timeout 120s --cluster .kubeform/lab
	$(VENV)/kubeform get deploy,rs,ds,sts,job,cj,svc,ep,pvc -n demo --cluster .kubeform/lab
	$(VENV)/kubeform get pods -A -o wide --cluster .kubeform/lab

lint: deps
	$(VENV)/ruff check kubeform tests bench
	$(VENV)/mypy
	$(VENV)/vermin -q --no-tips -t=3.6- --violations $(HOST_SIDE)

# The whole suite: unit, integration (sshd/etcd on loopback) and, as root, lab tests.
test: lint
	$(VENV)/python -m pytest -q --timeout=900

unit: deps
	$(VENV)/python -m pytest -q tests/unit
