"""The service proxy: the service map turned into kernel rules (iptables or ipvs), as kube-proxy lays them out."""
