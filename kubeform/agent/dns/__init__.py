"""Cluster DNS on every node: dnsmasq answering from records the agent writes from the service map."""
