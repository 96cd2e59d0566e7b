"""Verbs `kubeform image push|ls|make`: filling the cluster registry, for offline sites.

The registry runs on the first master (`kubeform up`); images land under their mirror
path (``nginx:1.29`` -> ``library/nginx:1.29``), where the agents look first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.errors import UserError
from kubeform.images import busybox, oci, reference
from kubeform.images.archive import Archive, host_platform
from kubeform.store.printers import table

#: What `image make` can build.
MAKEABLE = ("busybox",)


def _size(n: int) -> str:
    """1.2 MB: decimal units, as registries and docker print sizes."""
    value = float(n)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def cmd_push(args: argparse.Namespace) -> int:
    from kubeform.images import push as pushing  # lazy: the CLI starts without it
    from kubeform.images.connect import cluster_registry  # lazy: the CLI starts without it
    with Archive(args.archive) as archive:
        work = pushing.targets(archive, args.name or [])
        cd = ClusterDir.find(args.cluster)
        with cluster_registry(cd) as client:
            client.ping()
            for image, ref in work:
                done = pushing.push(client, archive, image, ref)
                print(
                    f"pushed {ref.mirror_ref} ({done.digest}, {done.blobs} blobs, {_size(done.size)}, "
                    f"{done.uploaded} uploaded)",
                    flush=True,
                )
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    from kubeform.images.connect import cluster_registry  # lazy: the CLI starts without it
    cd = ClusterDir.find(args.cluster)
    rows = []
    with cluster_registry(cd) as client:
        for repo in sorted(client.catalog()):
            tags = sorted(client.tags(repo))
            rows += [[repo, t] for t in tags] or [[repo, "<none>"]]
    if not rows:
        print("No images in the cluster registry.", file=sys.stderr)
        return 0
    sys.stdout.write(table(["REPOSITORY", "TAG"], rows))
    return 0


def cmd_make(args: argparse.Namespace) -> int:
    ref = reference.parse(args.name or f"{args.what}:latest")
    out = Path(args.output or f"{args.what}.tar")
    image = busybox.build_from_host(args.busybox, arch=host_platform()[1])
    data = oci.layout_tar(image, str(ref), ref.tag or "latest")
    try:
        out.write_bytes(data)
    except OSError as err:
        raise UserError(f"cannot write: {err.strerror}", file=str(out)) from None
    print(f"wrote {out} ({ref}, {image.digest}, {_size(len(data))})")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add `image` and its subverbs to the top-level parser."""
    p = sub.add_parser("image", help="push, list and make images in the cluster registry")
    isub = p.add_subparsers(dest="image_verb", metavar="VERB", required=True)

    c = isub.add_parser("push", help="push an OCI archive or a `docker save` tarball")
    c.add_argument("archive", metavar="ARCHIVE")
    c.add_argument(
        "--name",
        action="append",
        metavar="REF",
        help="push as this reference (repeatable; default: the names in the archive)",
    )
    c.add_argument("--cluster", metavar="DIR", help="cluster directory (default: $KUBEFORM_CLUSTER or ./.kubeform/*)")
    c.set_defaults(func=cmd_push)

    c = isub.add_parser("ls", help="list repositories and tags in the cluster registry")
    c.add_argument("--cluster", metavar="DIR", help="cluster directory (default: $KUBEFORM_CLUSTER or ./.kubeform/*)")
    c.set_defaults(func=cmd_ls)

    c = isub.add_parser("make", help="build a small image archive on this machine (busybox)")
    c.add_argument("what", choices=MAKEABLE)
    c.add_argument("--name", metavar="REF", help="the image's name (default: busybox:latest)")
    c.add_argument("-o", "--output", metavar="FILE", help="archive to write (default: busybox.tar)")
    c.add_argument("--busybox", default=busybox.BUSYBOX, metavar="PATH",
                   help=f"static busybox binary (default: {busybox.BUSYBOX}, from busybox-static)")
    c.add_argument("--cluster", metavar="DIR", help=argparse.SUPPRESS)  # accepted like every verb's; unused
    c.set_defaults(func=cmd_make)
