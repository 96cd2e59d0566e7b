"""Container images on the operator's side: references, archives, the cluster registry."""
