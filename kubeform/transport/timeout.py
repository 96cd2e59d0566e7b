"""The one transport error that is about the command, not the host.

Why separate from Unreachable: a command that outlives its timeout says nothing about
the host's reachability (the connection stays usable), so the engine reports it as a
failed task, not as an unreachable host. It is a TransportError, so code that catches
that base keeps working.
"""

from __future__ import annotations

from kubeform.transport.base import TransportError


class CommandTimeout(TransportError):
    """A command did not finish within its timeout; its channel was closed."""
