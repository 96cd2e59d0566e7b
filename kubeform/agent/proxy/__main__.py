"""`python3 -m kubeform.agent.proxy cleanup`: what `kubeform down` runs on every host.

Removes every jump into a KUBE- chain and every KUBE- chain (filter, nat, mangle), every
ipvs virtual server, the kube-ipvs0 device and the KUBE- ipsets: all the service proxy
made, in either mode. Prints ``removed=N`` (N = 0: nothing was there).
"""

import argparse
import sys
from typing import List, Optional

from .iptables_host import IptablesError, IptablesHost, installed_binaries
from .ipvs import cleanup as ipvs_cleanup


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m kubeform.agent.proxy")
    parser.add_argument("action", choices=["cleanup"])
    parser.add_argument("--netns", default=None, help="run inside this network namespace")
    args = parser.parse_args(argv)
    removed = 0
    for binary in installed_binaries():  # both flavours: whichever the agent chose
        host = IptablesHost(args.netns, binary)
        try:
            removed += host.cleanup()
        except (IptablesError, OSError) as exc:
            print("iptables cleanup (%s): %s" % (binary, exc), file=sys.stderr)
            return 1
    removed += ipvs_cleanup(host)  # after the rules: an ipset in use cannot be destroyed
    print("removed=%d" % removed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
