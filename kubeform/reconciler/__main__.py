"""`python3 -m kubeform.reconciler`: the entry point systemd runs on every master."""

import sys

from .daemon import main

sys.exit(main())
