"""Host bootstrap for `kubeform up`/`down`: the cluster directory, certificates, site variables, etcd growth."""
