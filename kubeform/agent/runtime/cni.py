"""Pod networking through the standard CNI plugins, as flannel's CNI plugin would wire it.

Why CNI and not our own `ip` calls: the bridge, host-local and portmap plugins (Debian and
EL package them as containernetworking-plugins) are what every Kubernetes node runs; with
the same network config flannel's CNI plugin hands to bridge, a pod here is wired exactly
as on a flannel cluster (cni0 bridge, IP from the node's flannel subnet, default route via
the bridge, hostPorts through portmap).

The config and the protocol (env CNI_COMMAND..., config on stdin, prevResult chained from
one plugin to the next, runtimeConfig for declared capabilities) are pure functions here;
only ``exec_plugin`` and the ``add``/``delete``/``check`` wrappers run anything.
"""

import ipaddress
import json
import os
import subprocess
from typing import Any, Dict, List, NamedTuple, Optional

NETWORK_NAME = "kubeform"
CONFLIST_FILE = "10-kubeform.conflist"
# 0.4.0: the newest version EL7's and Debian's plugins both speak, with CHECK and prevResult.
CNI_VERSION = "0.4.0"
BRIDGE = "cni0"
# host-local's allocations live on tmpfs: a reboot (which loses every netns) frees them.
IPAM_DATA_DIR = "/run/kubeform/cni/networks"
DEFAULT_MTU = 1450


class CNIError(Exception):
    """A plugin failed; the message is the plugin's own (code, msg, details)."""


class SubnetEnv(NamedTuple):
    """What flannel wrote to /run/flannel/subnet.env for this node."""

    network: str  # FLANNEL_NETWORK, the whole pod network: 10.244.0.0/16
    subnet: str  # this node's pod subnet, network form: 10.244.1.0/24
    mtu: int
    ipmasq: bool


class PodIP(NamedTuple):
    address: str  # 10.244.1.5
    prefix: int  # 24
    gateway: str  # 10.244.1.1 ("" when the plugin gave none)


def parse_subnet_env(text: str) -> SubnetEnv:
    """Parse subnet.env (KEY=VALUE lines; FLANNEL_SUBNET is the gateway form 10.244.1.1/24)."""
    values = {}  # type: Dict[str, str]
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    if "FLANNEL_SUBNET" not in values:
        raise CNIError("subnet.env has no FLANNEL_SUBNET (is the overlay up?)")
    subnet = ipaddress.ip_interface(values["FLANNEL_SUBNET"]).network
    network = values.get("FLANNEL_NETWORK", "")
    if network:
        network = str(ipaddress.ip_network(network, strict=False))
    return SubnetEnv(
        network=network,
        subnet=str(subnet),
        mtu=int(values.get("FLANNEL_MTU", DEFAULT_MTU)),
        ipmasq=values.get("FLANNEL_IPMASQ", "false") == "true",
    )


def conflist(env: SubnetEnv, data_dir: str = IPAM_DATA_DIR) -> Dict[str, Any]:
    """The network config list: bridge as flannel's plugin delegates to it, then portmap.

    ipMasq is false because the overlay (flannel's rules, our agent's overlay.py) already
    masquerades pod traffic leaving the pod network; isDefaultGateway gives pods a default
    route via cni0 (kube-flannel.yml's delegate sets it), hairpinMode lets a pod reach
    itself through a service.
    """
    routes = []  # type: List[Dict[str, str]]
    if env.network:
        routes.append({"dst": env.network})
    bridge = {
        "type": "bridge",
        "bridge": BRIDGE,
        "isGateway": True,
        "isDefaultGateway": True,
        "ipMasq": False,
        "hairpinMode": True,
        "mtu": env.mtu,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": env.subnet}]],
            "routes": routes,
            "dataDir": data_dir,
        },
    }  # type: Dict[str, Any]
    portmap = {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True}
    return {"cniVersion": CNI_VERSION, "name": NETWORK_NAME, "plugins": [bridge, portmap]}


def loopback_conflist() -> Dict[str, Any]:
    """lo inside the pod, run as its own one-plugin network (as containerd and cri-o do)."""
    return {"cniVersion": CNI_VERSION, "name": "cni-loopback", "plugins": [{"type": "loopback"}]}


def plugin_stdin(
    netconf: Dict[str, Any],
    index: int,
    prev_result: Optional[Dict[str, Any]],
    runtime_config: Dict[str, Any],
) -> Dict[str, Any]:
    """The JSON one plugin of the list reads on stdin (libcni's buildOneConfig).

    name and cniVersion come from the list; prevResult is the previous plugin's result (on
    ADD) or the cached result of the whole list (on DEL/CHECK); runtimeConfig carries only
    the capabilities this plugin declares (portmap: portMappings).
    """
    plugin = dict(netconf["plugins"][index])
    plugin["name"] = netconf["name"]
    plugin["cniVersion"] = netconf["cniVersion"]
    if prev_result is not None:
        plugin["prevResult"] = prev_result
    caps = plugin.get("capabilities") or {}
    rc = {k: v for k, v in sorted(runtime_config.items()) if caps.get(k)}
    if rc:
        plugin["runtimeConfig"] = rc
    return plugin


#: Plugins that do nothing but serve their capabilities: with none of them asked for
#: (portmap without portMappings passes prevResult on, and DEL has nothing to remove),
#: they are not run, an exec of a Go binary less per pod start and stop.
CAPABILITY_ONLY = ("portmap",)


def plugins_to_run(netconf: Dict[str, Any], runtime_config: Dict[str, Any]) -> List[int]:
    """Indexes of the list's plugins to run for a pod with this runtimeConfig."""
    out = []  # type: List[int]
    for i, plugin in enumerate(netconf["plugins"]):
        caps = plugin.get("capabilities") or {}
        if plugin.get("type") in CAPABILITY_ONLY and not any(runtime_config.get(k) for k in caps if caps.get(k)):
            continue
        out.append(i)
    return out


def plugin_env(
    command: str, container_id: str, netns: str, ifname: str, cni_path: List[str]
) -> Dict[str, str]:
    """The CNI_* variables of the protocol (added to a minimal PATH for the plugins' tools)."""
    return {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": container_id,
        "CNI_NETNS": netns,
        "CNI_IFNAME": ifname,
        "CNI_PATH": ":".join(cni_path),
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    }


def parse_ips(result: Dict[str, Any]) -> List[PodIP]:
    """The IPv4 addresses of a CNI result (0.3.x/0.4.0 mark "version", 1.0 drops it)."""
    out = []  # type: List[PodIP]
    for entry in result.get("ips") or []:
        addr = entry.get("address", "")
        if not addr:
            continue
        iface = ipaddress.ip_interface(addr)
        if iface.version != 4:
            continue
        out.append(PodIP(str(iface.ip), iface.network.prefixlen, str(entry.get("gateway", ""))))
    return out


def error_message(plugin: str, stdout: str, stderr: str, code: int) -> str:
    """A plugin's failure as one line: its JSON error (msg: details) or its stderr."""
    try:
        err = json.loads(stdout)
        msg = str(err.get("msg", "")).strip()
        details = str(err.get("details", "")).strip()
        if msg:
            return "%s: %s%s" % (plugin, msg, ("; " + details) if details and details != msg else "")
    except ValueError:
        pass
    text = (stderr or stdout).strip().splitlines()
    return "%s exited %d%s" % (plugin, code, (": " + text[-1]) if text else "")


def find_plugin(plugin: str, bin_dirs: List[str]) -> str:
    for d in bin_dirs:
        path = os.path.join(d, plugin)
        if os.access(path, os.X_OK):
            return path
    raise CNIError("CNI plugin %r not found in %s" % (plugin, ":".join(bin_dirs)))


def exec_plugin(plugin: str, env: Dict[str, str], stdin: Dict[str, Any], bin_dirs: List[str]) -> Dict[str, Any]:
    """Run one plugin by the protocol; its JSON result ({} for DEL/CHECK), CNIError on failure."""
    path = find_plugin(plugin, bin_dirs)
    proc = subprocess.run(
        [path],
        input=json.dumps(stdin),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise CNIError(error_message(plugin, proc.stdout, proc.stderr, proc.returncode))
    out = proc.stdout.strip()
    if not out:
        return {}
    try:
        result = json.loads(out)
    except ValueError:
        raise CNIError("%s: result is not JSON: %s" % (plugin, out[:200])) from None
    return result if isinstance(result, dict) else {}


def add(
    netconf: Dict[str, Any],
    container_id: str,
    netns: str,
    bin_dirs: List[str],
    runtime_config: Optional[Dict[str, Any]] = None,
    ifname: str = "eth0",
) -> Dict[str, Any]:
    """ADD through the whole list, each plugin getting the previous one's result."""
    env = plugin_env("ADD", container_id, netns, ifname, bin_dirs)
    result = None  # type: Optional[Dict[str, Any]]
    for i in plugins_to_run(netconf, runtime_config or {}):
        stdin = plugin_stdin(netconf, i, result, runtime_config or {})
        result = exec_plugin(netconf["plugins"][i]["type"], env, stdin, bin_dirs)
    return result or {}


def delete(
    netconf: Dict[str, Any],
    container_id: str,
    netns: str,
    bin_dirs: List[str],
    prev_result: Optional[Dict[str, Any]] = None,
    runtime_config: Optional[Dict[str, Any]] = None,
    ifname: str = "eth0",
) -> None:
    """DEL in reverse order. Plugins must tolerate a missing netns (netns may be "")."""
    env = plugin_env("DEL", container_id, netns, ifname, bin_dirs)
    errors = []  # type: List[str]
    for i in reversed(plugins_to_run(netconf, runtime_config or {})):
        stdin = plugin_stdin(netconf, i, prev_result, runtime_config or {})
        try:
            exec_plugin(netconf["plugins"][i]["type"], env, stdin, bin_dirs)
        except CNIError as exc:
            errors.append(str(exc))  # go on: host-local must still free the IP
    if errors:
        raise CNIError("; ".join(errors))


def check(
    netconf: Dict[str, Any],
    container_id: str,
    netns: str,
    bin_dirs: List[str],
    prev_result: Dict[str, Any],
    runtime_config: Optional[Dict[str, Any]] = None,
    ifname: str = "eth0",
) -> None:
    """CHECK every plugin against the cached result; CNIError names what is wrong."""
    env = plugin_env("CHECK", container_id, netns, ifname, bin_dirs)
    for i in plugins_to_run(netconf, runtime_config or {}):
        stdin = plugin_stdin(netconf, i, prev_result, runtime_config or {})
        exec_plugin(netconf["plugins"][i]["type"], env, stdin, bin_dirs)


def write_conflist(conf_dir: str, netconf: Dict[str, Any]) -> str:
    """Write the list to <conf_dir>/10-kubeform.conflist when it changed; its path."""
    path = os.path.join(conf_dir, CONFLIST_FILE)
    text = json.dumps(netconf, indent=2, sort_keys=True) + "\n"
    try:
        with open(path) as f:
            if f.read() == text:
                return path
    except OSError:
        pass
    os.makedirs(conf_dir, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)
    return path


def load_node_conflist(subnet_env_path: str, conf_dir: str) -> Dict[str, Any]:
    """Read subnet.env, write the conflist for it, return the list (CNIError without overlay)."""
    try:
        with open(subnet_env_path) as f:
            env = parse_subnet_env(f.read())
    except OSError as exc:
        raise CNIError("cannot read %s: %s (is the overlay up?)" % (subnet_env_path, exc.strerror)) from None
    netconf = conflist(env)
    write_conflist(conf_dir, netconf)
    return netconf
