"""`kubeform down`'s sweep of a runtime: every sandbox and container a driver made goes.

Both drivers are removed the same way (sandboxes first, so CNI DEL with the cached results
frees the IPs and hostPort rules, then containers); each driver module's ``main`` is this
module's command line, run by reset.yml as ``python3 -m kubeform.agent.runtime.<driver>
remove-all`` before the agent's code is deleted (its unit's KillMode=process keeps pods
alive otherwise).
"""

import sys
from typing import Callable, List, Optional

from ..config import AgentConfig, ConfigError, load_config
from .driver import Driver

DEFAULT_CONFIG = "/etc/kubeform/agent.json"


def remove_everything(driver: Driver, skip_sandbox: Callable[[str], bool] = lambda uid: False) -> int:
    """Remove the driver's sandboxes (but those ``skip_sandbox`` names) and containers; how many."""
    n = 0
    for sb in driver.list_sandboxes():
        if skip_sandbox(sb.pod_uid):
            continue
        driver.remove_sandbox(sb.pod_uid)
        n += 1
    for c in driver.list_containers():
        driver.remove_container(c.id)
        n += 1
    return n


def remove_all_main(argv: Optional[List[str]], module: str, remove: Callable[[AgentConfig], int]) -> int:
    """``python3 -m kubeform.agent.runtime.<module> remove-all [--config PATH]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    config = DEFAULT_CONFIG
    if "--config" in args:
        i = args.index("--config")
        config = args[i + 1] if i + 1 < len(args) else config
        del args[i : i + 2]
    if args != ["remove-all"]:
        sys.stderr.write("usage: python3 -m kubeform.agent.runtime.%s remove-all [--config PATH]\n" % module)
        return 2
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        sys.stderr.write("%s\n" % exc)
        return 1
    print("removed=%d" % remove(cfg))
    return 0
