"""A busybox OCI image layout made on a lab host from its /bin/busybox (busybox-static).

Why: the runtime's lab tests need an image without internet or a registry; this builder
is a stdlib-only Python script sent to the host (python3 -), writing an OCI image layout
(one gzip layer: /bin/busybox and a symlink per applet, plus /etc/passwd and /etc/group)
that skopeo can copy anywhere (oci:, a registry).
"""

BUILDER = r'''
import gzip, hashlib, io, json, os, subprocess, sys, tarfile, time

out, tag = sys.argv[1], sys.argv[2]
applets = subprocess.run(["/bin/busybox", "--list"], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout.split()
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
    def add_dir(name, mode=0o755):
        ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = mode; ti.mtime = 0
        tar.addfile(ti)
    def add_file(name, data, mode=0o644):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode; ti.mtime = 0
        tar.addfile(ti, io.BytesIO(data))
    for d in ("bin", "etc", "tmp", "root", "var", "var/www", "home"):
        add_dir(d, 0o1777 if d == "tmp" else 0o755)
    with open("/bin/busybox", "rb") as f:
        add_file("bin/busybox", f.read(), 0o755)
    for a in applets:
        if a == "busybox":
            continue
        ti = tarfile.TarInfo("bin/" + a); ti.type = tarfile.SYMTYPE; ti.linkname = "busybox"; ti.mtime = 0
        tar.addfile(ti)
    add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
layer = raw.getvalue()
gz = gzip.compress(layer, mtime=0)

def put(data):
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(out, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)

layer_digest, layer_size = put(gz)
config = {
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
    "history": [{"created_by": "kubeform busybox_oci.py from /bin/busybox"}],
}
cfg_digest, cfg_size = put(json.dumps(config, sort_keys=True).encode())
manifest = {
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": cfg_size},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest,
                "size": layer_size}],
}
man_digest, man_size = put(json.dumps(manifest, sort_keys=True).encode())
with open(os.path.join(out, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion": "1.0.0"}')
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": man_digest, "size": man_size,
         "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
print(man_digest)
'''
