"""`python3 -m kubeform.agent`: the entry point systemd runs on every host."""

import sys

from .main import main

sys.exit(main())
