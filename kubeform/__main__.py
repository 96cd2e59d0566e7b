"""Allow ``python -m kubeform`` where the console script is not on PATH (e.g. under sudo)."""

from kubeform.cli.main import main

raise SystemExit(main())
