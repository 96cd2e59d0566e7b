"""Reading the host's network state from ip/bridge/iptables output (kubeform.agent.hoststate);
the overlay cases in tests/unit/agent/test_overlay.py read both dialects through it too."""

from kubeform.agent import hoststate


def test_parse_rules_only_ours() -> None:
    text = "-P POSTROUTING ACCEPT\n-A POSTROUTING -j KUBE-POSTROUTING\n-A POSTROUTING -s 1.0.0.0/8 -m comment --comment kubeform-flannel -j MASQUERADE\n"
    assert hoststate.parse_rules(text, "POSTROUTING") == [
        "-s 1.0.0.0/8 -m comment --comment kubeform-flannel -j MASQUERADE"
    ]


def test_parse_empty_outputs() -> None:
    cur = hoststate.parse_current({"addr": "", "neigh": "", "fdb": "", "route": ""})
    assert cur.links == {} and cur.routes == [] and cur.ip_forward == "0"
