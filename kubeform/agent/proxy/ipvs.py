"""The imperative edge of ipvs mode: kube-ipvs0, ipsets, ipvsadm-restore and the helper rules.

Why a sync that reads the kernel each time: ipvs keeps connection state per real server,
so the table is changed in place (ipvs_rules.ipvs_commands: only the differing virtual
and real servers), never flushed and reloaded. Needs the ip_vs kernel modules; when they
are missing every sync fails with one clear line (and `kubeform up` refuses ipvs mode on
such hosts before the agent ever starts).
"""

import logging
from typing import Any, Dict, List, Optional, Tuple

from . import chains as ch
from . import iptables_rules, iptables_sync, ipvs_rules
from .iptables_host import IptablesError, IptablesHost

LOG = logging.getLogger("kubeform.agent.proxy")

JUMPS = [
    iptables_sync.Jump("nat", "OUTPUT", ch.SERVICES, "kubernetes service portals", []),
    iptables_sync.Jump("nat", "PREROUTING", ch.SERVICES, "kubernetes service portals", []),
    iptables_sync.Jump("nat", "POSTROUTING", ch.POSTROUTING, "kubernetes postrouting rules", []),
    iptables_sync.Jump("filter", "FORWARD", ch.FORWARD, "kubernetes forwarding rules", []),
]


class IpvsBackend(object):
    name = "ipvs"

    def __init__(self, host: IptablesHost, netns: Optional[str] = None) -> None:
        self.host = host
        self.netns = netns
        self.applied = None  # type: Optional[iptables_rules.RuleSet]
        self.applied_sets = ""

    def context(self, node_name: str, node_ips: List[str], cluster_cidr: str) -> iptables_rules.ProxyContext:
        try:
            random_fully = self.host.modern()
        except (IptablesError, OSError):
            random_fully = False
        return iptables_rules.context(node_name, node_ips, cluster_cidr, random_fully)

    def _current_addresses(self) -> List[str]:
        out = self.host.run(["ip", "-o", "-4", "addr", "show", "dev", ipvs_rules.DUMMY_DEVICE])
        return [w.split()[3].split("/")[0] for w in out.splitlines() if len(w.split()) > 3]

    def ensure_device(self) -> None:
        try:
            self.host.run(["ip", "link", "show", ipvs_rules.DUMMY_DEVICE])
        except IptablesError:
            self.host.run(["ip", "link", "add", ipvs_rules.DUMMY_DEVICE, "type", "dummy"])

    def sync(self, items: List[Tuple[str, int, Dict[str, Any]]], ctx: iptables_rules.ProxyContext, full: bool) -> str:
        state = ipvs_rules.render([e for _k, _r, e in items], ctx)
        try:
            current = ipvs_rules.parse_ipvsadm_save(self.host.run(["ipvsadm", "-Sn"]))
        except IptablesError as exc:
            raise IptablesError("ipvsadm cannot read the ipvs table (is the ip_vs kernel module loaded?): %s" % exc)
        self.ensure_device()
        for argv in ipvs_rules.address_commands(state.addresses, self._current_addresses()):
            self.host.run(argv)
        sets = ipvs_rules.ipset_text(state.ipsets)
        if full or sets != self.applied_sets:
            self.host.run(["ipset", "restore"], stdin=sets)
            self.applied_sets = sets
        text = iptables_sync.restore_text(state.rules, None if full else self.applied)
        self.host.restore(text)
        self.applied = state.rules
        if full:
            self.host.ensure_jumps(self.host.save_all(), JUMPS)
        commands = ipvs_rules.ipvs_commands(state.virtual, current)
        if commands:
            self.host.run(["ipvsadm-restore"], stdin=commands)
        return "%d virtual servers, %d ipvs changes" % (len(state.virtual), len(commands.splitlines()))

    def forget(self) -> None:
        self.applied = None
        self.applied_sets = ""


def cleanup(host: IptablesHost) -> int:
    """What `down` removes in ipvs mode: every virtual server, kube-ipvs0, the KUBE- ipsets."""
    n = 0
    try:
        if host.run(["ipvsadm", "-Sn"]).strip():
            host.run(["ipvsadm", "-C"])
            n += 1
    except (IptablesError, OSError):
        pass
    try:
        host.run(["ip", "link", "del", ipvs_rules.DUMMY_DEVICE])
        n += 1
    except (IptablesError, OSError):
        pass
    try:
        names = [line.strip() for line in host.run(["ipset", "list", "-n"]).splitlines() if line.startswith("KUBE-")]
        for name in names:
            host.run(["ipset", "destroy", name])
            n += 1
    except (IptablesError, OSError):
        pass
    return n
