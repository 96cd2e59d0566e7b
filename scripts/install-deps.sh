#!/usr/bin/env bash
# Everything kubeform's tests and lab need on a fresh Debian 12 machine, installed
# idempotently (apt packages once, a project virtualenv at .venv). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  openssh-server openssh-client          # the test sshd and the ssh client
  etcd-server etcd-client                # a real etcd for store and agent tests
  systemd-container debootstrap          # kubeform lab: nspawn machines, base image
  iproute2 iptables ipvsadm conntrack    # network namespaces, service rules
  crun busybox-static                    # container runtime on lab hosts; `image make busybox`
  docker-registry                        # the cluster registry's distribution, for image tests
  ruby                                   # `ruby -c Vagrantfile`
  make ca-certificates sudo
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  echo "install-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these on install; kubeform starts its own on loopback when it needs them.
  for svc in etcd ssh docker-registry; do
    if command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.kubeform-installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v -i warning || true
  .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v -i warning || true
  .venv/bin/python -c 'import kubeform, paramiko, etcd3gw, rich'
  touch "$stamp"
fi
