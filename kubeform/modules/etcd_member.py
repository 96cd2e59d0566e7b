"""etcd_member: this host is a member of a running etcd cluster (``etcdctl member add``).

``kubeform up`` grows an etcd cluster one member at a time: before a new member's etcd
starts (with ``--initial-cluster-state=existing``) the running cluster must know its peer
URL. The task runs on the new member itself and talks to the existing members' client
endpoints with the new member's own client certificate, so no ``delegate_to`` is needed.
The fact (``member list -w json``) is volatile: in a plan the new member has no etcdctl or
certificate yet, and at apply time the list must be read right before the add, never from
an earlier batch. A member already listed under its peer URL (started or not) is left as is.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, Run
from kubeform.modules.etcd_key import _etcdctl

#: The fact's value when the members could not be listed (etcd not reachable, no etcdctl).
UNKNOWN = "unknown"


def _parse(out: str, rc: int) -> Any:
    """Peer URLs of the cluster's members, or UNKNOWN when the listing failed."""
    if rc != 0:
        return UNKNOWN
    try:
        members = json.loads(out).get("members") or []
    except (ValueError, AttributeError):
        return UNKNOWN
    return sorted({str(u) for m in members for u in (m.get("peerURLs") or [])})


def _key(args: Mapping[str, Any]) -> str:
    return f"etcd_member:{args['endpoints']}"


class EtcdMember(Module):
    """Ensure ``peer_url`` is a member of the cluster reached at ``endpoints``."""

    name: ClassVar[str] = "etcd_member"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "peer_url": {"type": "string", "pattern": "^https?://"},
            "endpoints": {"type": "string", "minLength": 1},
            "cacert": {"type": "string"},
            "cert": {"type": "string"},
            "client_key": {"type": "string"},
        },
        "required": ["name", "peer_url", "endpoints"],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        listing = f"{_etcdctl(args)} --command-timeout=5s member list -w json"
        return [Fact(key=_key(args), command=listing, parse=_parse, volatile=True)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        peers = facts[_key(args)]
        peer_url = str(args["peer_url"])
        if peers != UNKNOWN and peer_url in peers:
            return []
        name = str(args["name"])
        cmd = (
            f"{_etcdctl(args)} --command-timeout=10s member add {shlex.quote(name)} "
            f"--peer-urls={shlex.quote(peer_url)}"
        )
        before = None if peers == UNKNOWN else "\n".join(peers)
        after = "\n".join(sorted({*([] if peers == UNKNOWN else peers), peer_url}))
        return [
            Change(
                "add",
                f"add etcd member {name} ({peer_url})",
                (Run(cmd),),
                Diff(f"etcd members at {args['endpoints']}", before, after),
            )
        ]
