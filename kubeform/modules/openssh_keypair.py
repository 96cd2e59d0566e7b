"""openssh_keypair: an SSH key pair on the host (``community.crypto.openssh_keypair``).

One probe reads the private key's type, size and fingerprint (``ssh-keygen -l``) and
whether the ``.pub`` file is there. A missing key is generated with ``ssh-keygen``; an
existing one is regenerated as ``regenerate`` says (``partial_idempotence``, the
default: when its type or size differ from the task's; ``never``; ``fail``; ``always``;
``force: true`` always). A missing ``.pub`` is written again from the private key.
Passphrases are not supported (the key would need one on every use).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult

DEFAULT_SIZE = {"rsa": 4096, "dsa": 1024, "ecdsa": 256, "ed25519": 256, "rsa1": 2048}
SSH_TYPE = {"RSA": "rsa", "DSA": "dsa", "ECDSA": "ecdsa", "ED25519": "ed25519"}


def parse_key(out: str, rc: int) -> dict[str, Any]:
    found: dict[str, Any] = {"exists": False, "pub": False}
    for line in out.splitlines():
        if line == "private=yes":
            found["exists"] = True
        elif line == "pub=yes":
            found["pub"] = True
        m = re.match(r"^(\d+)\s+(\S+)\s+(.*)\s+\((\w+)\)$", line)
        if m:
            found.update(size=int(m.group(1)), fingerprint=m.group(2), comment=m.group(3), type=SSH_TYPE.get(m.group(4), m.group(4).lower()))
    return found


class OpensshKeypair(Module):
    """``path``, ``type``, ``size``, ``comment``, ``state``, ``force``, ``regenerate``, ``mode``/``owner``/``group``."""

    name: ClassVar[str] = "openssh_keypair"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {"type": "string", "minLength": 1},
            "type": {"enum": ["rsa", "dsa", "rsa1", "ecdsa", "ed25519"]},
            "size": {"type": "integer"},
            "comment": {"type": "string"},
            "state": {"enum": ["present", "absent"]},
            "force": {"type": "boolean"},
            "regenerate": {"enum": ["never", "fail", "partial_idempotence", "full_idempotence", "always"]},
            "mode": {"type": ["string", "integer"]},
            "owner": {"type": "string"},
            "group": {"type": "string"},
            "passphrase": {"type": "string"},
            "private_key_format": {"enum": ["auto", "pkcs1", "pkcs8", "ssh"]},
            "backend": {"enum": ["auto", "cryptography", "opensshbin"]},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        q = shlex.quote(str(args["path"]))
        cmd = (f"( if [ -f {q} ]; then echo private=yes; ssh-keygen -l -f {q} 2>/dev/null; fi; "
               f"if [ -f {q}.pub ]; then echo pub=yes; fi; true )")  # fmt: skip
        return [Fact(f"openssh_keypair:{args['path']}", cmd, parse_key)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if args.get("passphrase"):
            raise ModuleArgError("passphrase is not supported", field="passphrase")
        path = str(args["path"])
        q = shlex.quote(path)
        found = facts[f"openssh_keypair:{path}"]
        if args.get("state", "present") == "absent":
            if not found["exists"] and not found["pub"]:
                return []
            return [Change("remove", f"remove key pair {path}", (Run(f"rm -f {q} {q}.pub"),), Diff(f"key {path}", found.get("fingerprint", "present"), None))]
        kind = str(args.get("type", "rsa"))
        size = int(args.get("size") or DEFAULT_SIZE[kind])
        regenerate = str(args.get("regenerate", "partial_idempotence"))
        gen = f"rm -f {q} {q}.pub && ssh-keygen -q -N '' -t {kind}" + ("" if kind == "ed25519" else f" -b {size}")
        gen += f" -C {shlex.quote(str(args['comment']))}" if args.get("comment") else ""
        gen += f" -f {q}"
        attrs = self._attrs(q, args)
        if not found["exists"]:
            return [Change("add", f"generate {kind} key {path}", (Run(gen), *attrs), Diff(f"key {path}", None, f"{kind} {size}"))]
        differs = found.get("type") != kind or (kind not in ("ed25519",) and found.get("size") != size)
        if args.get("force") or regenerate == "always" or (differs and regenerate in ("partial_idempotence", "full_idempotence")):
            return [Change("change", f"regenerate {kind} key {path}", (Run(gen), *attrs),
                           Diff(f"key {path}", f"{found.get('type')} {found.get('size')}", f"{kind} {size}"))]  # fmt: skip
        if differs and regenerate == "fail":
            raise ModuleArgError(f"{path} is a {found.get('type')} {found.get('size')} key, not {kind} {size} (regenerate: fail)", field="regenerate")
        if not found["pub"]:
            return [Change("add", f"write {path}.pub", (Run(f"ssh-keygen -y -f {q} > {q}.pub"),), Diff(f"{path}.pub", None, "present"))]
        return []

    @staticmethod
    def _attrs(q: str, args: Mapping[str, Any]) -> tuple[Run, ...]:
        out = []
        if args.get("mode") is not None:
            mode = args["mode"] if isinstance(args["mode"], str) else format(int(args["mode"]), "04o")
            out.append(Run(f"chmod {shlex.quote(str(mode))} {q}"))
        if args.get("owner") or args.get("group"):
            who = str(args.get("owner") or "") + (f":{args['group']}" if args.get("group") else "")
            out.append(Run(f"chown {shlex.quote(who)} {q} {q}.pub"))
        return tuple(out)

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        found = facts.get(f"openssh_keypair:{args['path']}") or {}
        return {"filename": args["path"], "fingerprint": found.get("fingerprint", ""), "size": found.get("size"), "type": found.get("type"), "comment": found.get("comment", "")}
