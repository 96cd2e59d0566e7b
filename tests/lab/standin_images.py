"""Stand-ins for the images the Kubernetes documentation's manifests name, built offline.

Why: the lab has no internet, yet a new user copies manifests that say ``image: nginx:1.14.2``
or ``image: perl:5.34.0``. These images are made on this machine from its Debian packages
(.deb files unpacked with ``dpkg -x``: apt's cache, else fetched once with ``apt-get
download`` into the stand-ins' own cache, so a fresh CI machine with an empty apt cache
builds them too; and the shared libraries their binaries link, taken from this machine) on top of the busybox layer ``kubeform image make``
builds, and pushed under the documentation's original names. Each behaves as the original
does where the documentation looks: nginx serves its welcome page on port 80 and logs to
stdout; perl (Debian's perl-base, perl-modules and libperl: the whole standard library)
computes ``bpi(2000)``; hpa-example burns CPU for every request and answers
``OK!``; fluentd runs forever.

Built archives are cached in /var/cache/kubeform/standin under a key of their inputs, so a
second run builds nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from kubeform.images import busybox, mediatypes, oci, reference
from kubeform.images.archive import host_platform

CACHE = Path("/var/cache/kubeform/standin")
APT_CACHE = Path("/var/cache/apt/archives")
#: Where .debs missing from apt's cache are fetched to (``apt-get download``).
DEB_CACHE = CACHE / "debs"
#: Bumped whenever a recipe changes, so cached archives of an older recipe are rebuilt.
RECIPE_VERSION = "6"

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
#: printenv, which Debian's busybox lacks and the docs run in nginx and busybox pods (the
#: Service tutorial's ``kubectl exec my-nginx-... -- printenv``): every variable, or the
#: values of those named (exit 1 when one is unset), as coreutils' and busybox's do.
PRINTENV = """\
#!/bin/sh
[ $# -eq 0 ] && exec env
exec awk 'BEGIN { for (i = 1; i < ARGC; i++) if (ARGV[i] in ENVIRON) print ENVIRON[ARGV[i]]; else rc = 1; exit rc }' "$@"
"""
#: files every stand-in gets (a recipe's own extra of the same path wins)
COMMON_EXTRA = {"usr/bin/printenv": (0o755, PRINTENV.encode())}
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
    debs: tuple[str, ...] = ()  # Debian package names; "{perl}" is this machine's perl (5.36)
    binaries: tuple[str, ...] = ()  # paths (in the layer) whose shared libraries are copied
    extra: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    config: dict[str, object] = field(default_factory=dict)
    users: str = ""


@functools.cache
def _perl_version() -> str:
    """This machine's perl as Debian names its packages (5.36 for perl-modules-5.36)."""
    out = subprocess.run(["perl", "-MConfig", "-e", "print $Config{api_versionstring}"],
                         capture_output=True, text=True, check=True).stdout
    return ".".join(out.strip().split(".")[:2])


def _nginx(names: tuple[str, ...]) -> Recipe:
    return Recipe(
        names=names,
        debs=("nginx", "nginx-common"),
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
    # All of perl's standard library, not only what one script loads: the Job's one-liner
    # loads modules lazily as bpi() grows, and users run other scripts in it. Plus Debian's
    # newer Math::BigInt (libmath-bigint-perl, in /usr/share/perl5, ahead in @INC): the
    # 1.999830 of perl 5.36 dies in bignum's bpi() from 1500 digits on ("Can't use an
    # undefined value as an ARRAY reference at Math/BigInt/Calc.pm line 1049"), where the
    # docs' perl:5.34.0 prints pi to 2000 digits.
    "perl": Recipe(
        names=("perl:5.34.0", "perl:latest"),
        debs=("perl-base", "perl-modules-{perl}", "libperl{perl}", "libmath-bigint-perl"),
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


def _package(name: str) -> str:
    return name.format(perl=_perl_version()) if "{perl}" in name else name


def _newest(paths: list[Path]) -> Path:
    """The .deb of the highest Debian version (dpkg's order, not the file names')."""

    def version(path: Path) -> str:
        return unquote(path.name.split("_")[1])

    def cmp(a: Path, b: Path) -> int:
        if version(a) == version(b):
            return 0
        gt = subprocess.run(["dpkg", "--compare-versions", version(a), "gt", version(b)], check=False)
        return 1 if gt.returncode == 0 else -1

    return sorted(paths, key=functools.cmp_to_key(cmp))[-1]


def _apt_download(package: str) -> None:
    """``apt-get download`` into DEB_CACHE; on failure (no package lists yet) update, retry."""
    DEB_CACHE.mkdir(parents=True, exist_ok=True)
    argv = ["apt-get", "download", "-q", package]
    if subprocess.run(argv, cwd=DEB_CACHE, capture_output=True, check=False).returncode == 0:
        return
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
    proc = subprocess.run(argv, cwd=DEB_CACHE, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise FileNotFoundError(f"apt-get download {package} failed: {proc.stderr.strip()}")


def _deb(name: str) -> Path:
    """The package's .deb: from apt's cache or ours, else downloaded once into ours."""
    package = _package(name)
    arch = host_platform()[1]

    def found() -> list[Path]:
        return [p for d in (APT_CACHE, DEB_CACHE) for p in d.glob(f"{package}_*.deb")
                if p.name.endswith((f"_{arch}.deb", "_all.deb"))]

    if not found():
        _apt_download(package)
    if not found():
        raise FileNotFoundError(f"no {package}_*.deb in {APT_CACHE} or {DEB_CACHE}")
    return _newest(found())


def _libraries(binary: Path) -> list[str]:
    """The shared libraries ``binary`` links, resolved on this machine (ldd)."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
    missing = [line.split()[0] for line in out.splitlines() if "not found" in line]
    if missing:  # the stand-in would fail at run time, far from here: say it now
        raise FileNotFoundError(f"{binary.name} links {', '.join(missing)}, missing on this machine")
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
        for package in recipe.debs:
            subprocess.run(["dpkg", "-x", str(_deb(package)), str(root)], check=True)
        for binary in recipe.binaries:
            for lib in _libraries(root / binary):
                _copy_host_file(lib, root)  # Debian's loader searches its multiarch dirs
        for rel in ("usr/share/doc", "usr/share/man", "usr/share/vim", "etc/init.d", "etc/logrotate.d"):
            subprocess.run(["rm", "-rf", str(root / rel)], check=True)
        for rel, (mode, data) in {**COMMON_EXTRA, **recipe.extra}.items():
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
    h.update(repr((recipe.names, recipe.debs, recipe.binaries, COMMON_EXTRA, recipe.extra, recipe.links,
                   sorted(recipe.config.items()), recipe.users)).encode())
    for package in recipe.debs:
        h.update(_deb(package).name.encode())
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
