"""The node runtime: pods bound to this node made real (sandboxes, containers, probes, volumes).

driver.py is the contract between the pod lifecycle (what to do, pure) and the container
runtimes (crun, docker) that do it; see docs/runtime.md.
"""
