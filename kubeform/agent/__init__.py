"""kubeform node agent: stdlib only, Python >= 3.6 syntax (CentOS 7 python3)."""
