"""Settings for the whole suite.

Hypothesis: CI machines are small and shared (2 CPUs, lab hosts running beside the unit
tests), so a slow draw or a slow example says nothing about the code under test; the
properties are still checked on every example, only the timing health checks are off.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "kubeform",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("kubeform")
