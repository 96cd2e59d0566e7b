"""The shared API model: kinds, selectors, defaults, node readiness, the etcd gateway client.

Standard library only, Python 3.6 syntax: the agent and the reconciler run it on cluster
hosts (CentOS 7 has python3.6), and the operator's CLI imports the same code.
"""
