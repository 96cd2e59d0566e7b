"""kube-proxy's chain names, computed exactly as kube-proxy computes them.

Why exactly: anyone who has debugged kube-proxy recognises KUBE-SVC-<hash> and can find
the same chain for the same Service port on a kubeform host. The hash is kube-proxy's
portProtoHash / servicePortEndpointChainName (pkg/proxy/iptables/proxier.go): sha256 of
"<namespace>/<name>[:<port name>]" + lower-case protocol [+ "<ip>:<port>"], base32
(standard alphabet), first 16 characters.
"""

import hashlib

SERVICES = "KUBE-SERVICES"
EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
NODEPORTS = "KUBE-NODEPORTS"
POSTROUTING = "KUBE-POSTROUTING"
MARK_MASQ = "KUBE-MARK-MASQ"
FORWARD = "KUBE-FORWARD"
PROXY_FIREWALL = "KUBE-PROXY-FIREWALL"

SVC_PREFIX = "KUBE-SVC-"
SVL_PREFIX = "KUBE-SVL-"
FW_PREFIX = "KUBE-FW-"
EXT_PREFIX = "KUBE-EXT-"
SEP_PREFIX = "KUBE-SEP-"
SERVICE_CHAIN_PREFIXES = (SVC_PREFIX, SVL_PREFIX, FW_PREFIX, EXT_PREFIX, SEP_PREFIX)


def service_port_name(namespace: str, name: str, port_name: str) -> str:
    """ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port."""
    base = "%s/%s" % (namespace, name)
    return base + ":" + port_name if port_name else base


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]  # 10 bits -> 2 characters
_sha256 = hashlib.sha256


def _hash16(text: str) -> str:
    """base32.StdEncoding(sha256(text))[:16]: 16 characters are the digest's first 80 bits,
    looked up 10 bits at a time (base64.b32encode is pure Python and this runs once per
    chain a sync renders: 70,000 times for 10,000 Services)."""
    n = int.from_bytes(_sha256(text.encode("utf-8")).digest()[:10], "big")
    t = _B32_PAIRS
    return (
        t[n >> 70]
        + t[(n >> 60) & 1023]
        + t[(n >> 50) & 1023]
        + t[(n >> 40) & 1023]
        + t[(n >> 30) & 1023]
        + t[(n >> 20) & 1023]
        + t[(n >> 10) & 1023]
        + t[n & 1023]
    )


def port_proto_hash(port_name: str, protocol: str) -> str:
    return _hash16(port_name + protocol.lower())


def svc_chain(port_name: str, protocol: str) -> str:
    """KUBE-SVC-: the Cluster-policy chain of a Service port."""
    return SVC_PREFIX + port_proto_hash(port_name, protocol)


def svl_chain(port_name: str, protocol: str) -> str:
    """KUBE-SVL-: the Local-policy chain (this node's endpoints only)."""
    return SVL_PREFIX + port_proto_hash(port_name, protocol)


def ext_chain(port_name: str, protocol: str) -> str:
    """KUBE-EXT-: where NodePort (external) traffic goes before its policy chain."""
    return EXT_PREFIX + port_proto_hash(port_name, protocol)


def sep_chain(port_name: str, protocol: str, endpoint: str) -> str:
    """KUBE-SEP-: one endpoint ("ip:port") of a Service port."""
    return SEP_PREFIX + _hash16(port_name + protocol.lower() + endpoint)


def is_service_chain(chain: str) -> bool:
    """A per-service chain kube-proxy owns (deleted when no longer rendered)."""
    return chain.startswith(SERVICE_CHAIN_PREFIXES)
