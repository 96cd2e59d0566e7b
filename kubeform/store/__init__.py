"""The operator's desired-state store: manifests, validation, apply/diff plans, printers, the etcd gateway client."""
