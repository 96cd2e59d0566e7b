"""The ENDPOINTS cell of `get ep` and the Endpoints line of `describe svc`."""

from __future__ import annotations

from kubeform.api import kinds
from kubeform.cli.objects import describe_text
from kubeform.store.printers import endpoints_summary

EP = {
    "subsets": [
        {"addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.3"}], "ports": [{"port": 8080}, {"port": 9100}]},
        {"notReadyAddresses": [{"ip": "10.244.2.9"}], "ports": [{"port": 8080}]},
    ]
}


def test_summary_shows_three_ready_then_counts() -> None:
    assert endpoints_summary(EP) == "10.244.1.5:8080,10.244.1.5:9100,10.244.2.3:8080 + 1 more..."
    assert endpoints_summary({}) == "<none>"
    assert endpoints_summary({"subsets": [{"addresses": [{"ip": "1.2.3.4"}]}]}) == "1.2.3.4"


def test_describe_service_lists_every_ready_endpoint() -> None:
    svc = {"kind": "Service", "metadata": {"name": "web", "namespace": "demo"}, "spec": {"selector": {"app": "web"}}}
    text = describe_text(kinds.BY_KIND["Service"], svc, [], endpoints=EP)
    assert "Endpoints:         10.244.1.5:8080,10.244.1.5:9100,10.244.2.3:8080,10.244.2.3:9100\n" in text
    assert "Endpoints:         <none>" in describe_text(kinds.BY_KIND["Service"], svc, [])
