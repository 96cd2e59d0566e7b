"""Stand-ins for the images the Kubernetes documentation's manifests name, built offline.

Why: the lab has no internet, yet a new user copies manifests that say ``image: nginx:1.14.2``
or ``image: perl:5.34.0``. These images are made on this machine from its Debian packages
(the .deb files in apt's cache, unpacked with ``dpkg -x``, and the shared libraries their
binaries link, taken from this machine) on top of the busybox layer ``kubeform image make``
builds, and pushed under the documentation's original names. Each behaves as the original
does where the documentation looks: nginx serves its welcome page on port 80 and logs to
stdout; perl computes ``bpi(2000)``; hpa-example burns CPU for every request and answers
``OK!``; fluentd runs forever.

Built archives are cached in /var/cache/kubeform/standin under a key of their inputs, so a
second run builds nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kubeform.images import busybox, mediatypes, oci, reference
from kubeform.images.archive import host_platform

CACHE = Path("/var/cache/kubeform/standin")
APT_CACHE = Path("/var/cache/apt/archives")
#: Bumped whenever a recipe changes, so cached archives of an older recipe are rebuilt.
RECIPE_VERSION = "4"

NGINX_CONF = """\
user nginx;
worker_processes 1;
error_log /dev/stderr notice;
pid /var/run/nginx.pid;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" "$http_user_agent"';
    access_log /dev/stdout main;
    sendfile on;
    keepalive_timeout 65;
    include /etc/nginx/conf.d/*.conf;
}
"""
NGINX_DEFAULT = """\
server {
    listen 80;
    listen [::]:80;
    server_name localhost;
    location / {
        root /usr/share/nginx/html;
        index index.html index.htm;
    }
    error_page 500 502 503 504 /50x.html;
    location = /50x.html { root /usr/share/nginx/html; }
}
"""
NGINX_INDEX = """\
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
#: The php-apache hpa-example's index.php: a CPU-bound loop per request, then "OK!".
#: Served by a shell loop around ``nc -l -e`` rather than busybox httpd + CGI: httpd
#: ignores SIGCHLD, so its CGI children are reaped by the kernel and their CPU time never
#: reaches a live process's cutime, which is what the agents sample from /proc (the lab's
#: hosts have no per-container cgroups); the loop's shell waits for each request's handler,
#: so the CPU shows in ``kubeform top`` and the HPA. busybox's awk has no sqrt() ("Math
#: support is not compiled in"); plain arithmetic costs about the same, ~0.3 CPU-s a request.
HPA_HANDLER = """\
#!/bin/sh
# one request: read it up to the blank line, burn CPU as index.php does, answer OK!
while read -r line; do
  case "$line" in ""|"$(printf '\\r')") break ;; esac
done
awk 'BEGIN { x = 0.0001; for (i = 0; i <= 1000000; i++) { x += x / (x + i + 1) } }'
printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/html; charset=UTF-8\\r\\nConnection: close\\r\\n\\r\\nOK!'
"""
HPA_SERVER = """\
#!/bin/sh
echo "hpa-example stand-in (kubeform lab) listening on :80"
while true; do nc -l -p 80 -e /usr/local/bin/hpa-handler; done
"""
FLUENTD = """\
#!/bin/sh
# stand-in for fluentd: says it started, then watches /var/log as the DaemonSet's one would
echo "fluentd stand-in (kubeform lab) watching /var/log"
while true; do sleep 3600; done
"""


@dataclass
class Recipe:
    """One stand-in: its names, the .debs it takes files from, and what it adds on top."""

    names: tuple[str, ...]
    debs: tuple[str, ...] = ()
    binaries: tuple[str, ...] = ()  # paths (in the layer) whose shared libraries are copied
    host_files: Callable[[], Iterable[str]] | None = None  # files copied from this machine
    extra: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    config: dict[str, object] = field(default_factory=dict)
    users: str = ""


def _perl_modules() -> list[str]:
    """The perl binary and every module file the pi Job's one-liner loads (from %INC)."""
    out = subprocess.run(
        ["perl", "-Mbignum=bpi", "-wle", "bpi(10); print for sort values %INC"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return ["/usr/bin/perl", *out]


def _nginx(names: tuple[str, ...]) -> Recipe:
    return Recipe(
        names=names,
        debs=("nginx_", "nginx-common_"),
        binaries=("usr/sbin/nginx",),
        extra={
            "etc/nginx/nginx.conf": (0o644, NGINX_CONF.encode()),
            "etc/nginx/conf.d/default.conf": (0o644, NGINX_DEFAULT.encode()),
            "usr/share/nginx/html/index.html": (0o644, NGINX_INDEX.encode()),
            "usr/share/nginx/html/50x.html": (0o644, b"<h1>An error occurred.</h1>\n"),
            "var/log/nginx/.keep": (0o644, b""),
            "var/lib/nginx/.keep": (0o644, b""),
            "var/run/.keep": (0o644, b""),
        },
        config={"Cmd": ["nginx", "-g", "daemon off;"], "ExposedPorts": {"80/tcp": {}},
                "StopSignal": "SIGQUIT"},
        users="nginx:x:101:101:nginx:/nonexistent:/bin/false\n",
    )


RECIPES: dict[str, Recipe] = {
    "busybox": Recipe(names=("registry.k8s.io/busybox:latest", "registry.k8s.io/busybox:1.27.2", "busybox:1.28", "k8s.gcr.io/busybox:latest")),
    "debian": Recipe(
        names=("debian:latest", "debian:bookworm", "debian:stable-slim"),
        extra={"etc/debian_version": (0o644, b"12.0\n")},
        config={"Cmd": ["bash"]},
        links={"bin/bash": "busybox"},
    ),
    "nginx": _nginx(("nginx:latest", "nginx:1.14.2", "nginx:1.16.1", "nginx:1.29",
                     "registry.k8s.io/nginx-slim:0.8", "registry.k8s.io/nginx-slim:0.21",
                     "registry.k8s.io/nginx-slim:0.24",
                     # the ReplicaSet page's guestbook frontend: a web server on port 80 will do
                     "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5")),
    "perl": Recipe(
        names=("perl:5.34.0", "perl:latest"),
        host_files=_perl_modules,
        binaries=("usr/bin/perl",),
        config={"Cmd": ["perl", "-de0"]},
    ),
    "hpa-example": Recipe(
        names=("registry.k8s.io/hpa-example:latest",),
        extra={"usr/local/bin/hpa-handler": (0o755, HPA_HANDLER.encode()),
               "usr/local/bin/hpa-server": (0o755, HPA_SERVER.encode())},
        config={"Cmd": ["hpa-server"], "ExposedPorts": {"80/tcp": {}}},
    ),
    "fluentd": Recipe(
        names=("quay.io/fluentd_elasticsearch/fluentd:v2.5.2", "fluentd:latest"),
        extra={"usr/local/bin/fluentd": (0o755, FLUENTD.encode())},
        config={"Cmd": ["fluentd"]},
    ),
}


def _deb(prefix: str) -> Path:
    found = sorted(APT_CACHE.glob(prefix + "*.deb"))
    if not found:
        raise FileNotFoundError(f"no {prefix}*.deb in {APT_CACHE} (apt-get download it once)")
    return found[-1]


def _libraries(binary: Path) -> list[str]:
    """The shared libraries ``binary`` links, resolved on this machine (ldd)."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def _entries_of_tree(root: Path) -> list[oci.Entry]:
    """Every file, directory and link under ``root`` (dirs first, sorted), as layer entries."""
    entries: list[oci.Entry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            entries.append(oci.Entry(rel, 0o755))
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            full = os.path.join(dirpath, name)
            path = name if rel == "." else f"{rel}/{name}"
            if os.path.islink(full):
                entries.append(oci.Entry(path, 0o777, link=os.readlink(full)))
            elif os.path.isfile(full):
                entries.append(oci.Entry(path, os.stat(full).st_mode & 0o7777, Path(full).read_bytes()))
    return entries


def _copy_host_file(src: str, root: Path) -> None:
    """``src`` copied to the same path under ``root``, its symlink chain followed (libs)."""
    real = os.path.realpath(src)
    dest = root / src.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        dest.write_bytes(Path(real).read_bytes())
        dest.chmod(os.stat(real).st_mode & 0o7777)


def _top_layer(recipe: Recipe) -> bytes:
    with tempfile.TemporaryDirectory(prefix="standin-") as tmp:
        root = Path(tmp)
        for prefix in recipe.debs:
            subprocess.run(["dpkg", "-x", str(_deb(prefix)), str(root)], check=True)
        for path in recipe.host_files() if recipe.host_files else ():
            _copy_host_file(path, root)
        for binary in recipe.binaries:
            for lib in _libraries(root / binary):
                _copy_host_file(lib, root)  # Debian's loader searches its multiarch dirs
        for rel in ("usr/share/doc", "usr/share/man", "usr/share/vim", "etc/init.d", "etc/logrotate.d"):
            subprocess.run(["rm", "-rf", str(root / rel)], check=True)
        for rel, (mode, data) in recipe.extra.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(mode)
        if recipe.users:
            users = busybox.PASSWD + recipe.users
            groups = busybox.GROUP + "".join(
                f"{u.split(':')[0]}:x:{u.split(':')[3]}:\n" for u in recipe.users.splitlines()
            )
            (root / "etc").mkdir(exist_ok=True)
            (root / "etc/passwd").write_text(users)
            (root / "etc/group").write_text(groups)
        entries = _entries_of_tree(root)
        entries += [oci.Entry(p, 0o777, link=t) for p, t in sorted(recipe.links.items())]
        return oci.tar_bytes(entries) if entries else b""


def _lib64_layer() -> bytes:
    """The dynamic loader where binaries look for it (/lib64), for every dynamic stand-in."""
    return oci.tar_bytes([oci.Entry("lib64", 0o755), oci.Entry("lib64/ld-linux-x86-64.so.2", 0o755,
                          Path(os.path.realpath("/lib64/ld-linux-x86-64.so.2")).read_bytes())])


def build(name: str) -> oci.BuiltImage:
    """The stand-in image ``name`` (a key of RECIPES): busybox's layer, then its own."""
    recipe = RECIPES[name]
    arch = host_platform()[1]
    base = oci.tar_bytes(busybox.rootfs_entries(Path(busybox.BUSYBOX).read_bytes(),
                                                busybox.applets_of(busybox.BUSYBOX)))
    layers = [base]
    if recipe.binaries:
        layers.append(_lib64_layer())
    top = _top_layer(recipe)
    if top:
        layers.append(top)
    cfg = {"Env": [busybox.PATH_ENV], "Cmd": ["sh"], **recipe.config}
    config = {
        "created": busybox.CREATED,
        "architecture": arch,
        "os": "linux",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": [oci.digest_of(layer) for layer in layers]},
        "history": [{"created": busybox.CREATED, "created_by": f"kubeform lab stand-in for {name}"}],
    }
    raw = json.dumps(config, separators=(",", ":")).encode()
    return oci.BuiltImage(raw, layers, [mediatypes.OCI_LAYER] * len(layers))


def _key(name: str) -> str:
    """What the archive depends on: the recipe, the .debs and this machine's busybox."""
    recipe = RECIPES[name]
    h = hashlib.sha256(RECIPE_VERSION.encode())
    h.update(repr((recipe.names, recipe.debs, recipe.binaries, recipe.extra, recipe.links,
                   sorted(recipe.config.items()), recipe.users)).encode())
    for prefix in recipe.debs:
        h.update(_deb(prefix).name.encode())
    h.update(str(os.stat(busybox.BUSYBOX).st_mtime_ns).encode())
    return h.hexdigest()[:16]


def archive(name: str, cache: Path = CACHE) -> Path:
    """The stand-in's oci-archive, built once and then taken from the cache."""
    path = cache / f"{name}-{_key(name)}.tar"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    image = build(name)
    first = reference.parse(RECIPES[name].names[0])
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(oci.layout_tar(image, str(first), first.tag or "latest"))
    tmp.rename(path)
    return path


def push_all(kf: Callable[..., object], names: Iterable[str] = tuple(RECIPES)) -> dict[str, Path]:
    """Every stand-in built (or cached) and pushed under each of its names, as a user would."""
    done = {}
    for name in names:
        path = archive(name)
        for ref in RECIPES[name].names:
            kf("image", "push", str(path), "--name", ref)
        done[name] = path
    return done


if __name__ == "__main__":  # build (or find) every archive: python -m tests.lab.standin_images
    for key in RECIPES:
        print(archive(key))
