"""kubeform: declarative provisioning of small container clusters over SSH."""

__version__ = "0.1.0"
