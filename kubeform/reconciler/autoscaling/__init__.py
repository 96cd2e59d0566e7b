"""The HorizontalPodAutoscaler's pure parts: the replica calculator (replicas.py), the
stabilization and rate limits (normalize.py) and what an HPA remembers (history.py).
The controller that uses them is controllers/autoscaler.py."""
