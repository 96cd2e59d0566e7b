"""The agent's side of the node DNS: when dnsmasq is signalled (hosts changed: SIGHUP) and
when it is restarted (the CNAMEs changed: dnsmasq reads cname= only at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeform.agent.dns.dnsmasq import DnsRecords

WEB = {"namespace": "demo", "name": "web", "type": "ClusterIP", "clusterIP": "10.96.5.3", "ports": [], "addresses": []}
EXT = {"namespace": "prod", "name": "my-service", "type": "ExternalName", "clusterIP": "",
       "externalName": "my.database.example.com", "ports": [], "addresses": []}


def _dns(tmp_path: Path, restart: list[str]) -> DnsRecords:
    # no pid file: a reload only logs (nobody to signal)
    return DnsRecords(str(tmp_path / "hosts"), str(tmp_path / "none.pid"), "cluster.local",
                      str(tmp_path / "conf.d" / "externalname.conf"), restart=restart)


def _cname_lines(tmp_path: Path) -> list[str]:
    return [x for x in (tmp_path / "conf.d" / "externalname.conf").read_text().splitlines() if not x.startswith("#")]


def test_restart_only_when_the_cnames_change(tmp_path: Path) -> None:
    dns = _dns(tmp_path, ["true"])
    entries: list[Any] = [WEB]
    assert dns.update(entries) is True
    assert dns.restarts == 0  # a fresh boot: no CNAME before, none now
    assert _cname_lines(tmp_path) == []
    assert dns.update(entries) is False
    assert dns.update([WEB, EXT]) is True
    assert dns.restarts == 1
    assert _cname_lines(tmp_path) == ["cname=my-service.prod.svc.cluster.local,my.database.example.com"]
    assert dns.update([dict(WEB, clusterIP="10.96.5.4"), EXT]) is True  # hosts only: SIGHUP, no restart
    assert dns.restarts == 1
    assert dns.update([WEB]) is True
    assert dns.restarts == 2


def test_a_failed_restart_is_retried_on_the_next_update(tmp_path: Path) -> None:
    dns = _dns(tmp_path, ["false"])
    dns.update([EXT])
    assert dns.restarts == 0 and dns.restart_pending
    dns.restart_argv = ["true"]
    dns.update([EXT])  # nothing changed, but dnsmasq has not read the file yet
    assert dns.restarts == 1 and not dns.restart_pending
    dns.update([EXT])
    assert dns.restarts == 1


def test_no_cname_file_configured(tmp_path: Path) -> None:
    dns = DnsRecords(str(tmp_path / "hosts"), str(tmp_path / "none.pid"), "cluster.local", restart=["false"])
    assert dns.update([WEB, EXT]) is True
    assert dns.restarts == 0 and not dns.restart_pending
    assert "my-service" not in (tmp_path / "hosts").read_text()
