"""Transport failures beyond base.py's, each telling the engine something different.

Why separate classes: a command that outlives its timeout says nothing about the host
(the connection stays usable: a failed task, not an unreachable host); a refused login
will not fix itself (no retry, also not while waiting for a rebooted host). Both derive
from base.py's classes, so code that catches those keeps working.
"""

from __future__ import annotations

from kubeform.transport.base import TransportError, Unreachable


class CommandTimeout(TransportError):
    """A command did not finish within its timeout; its channel was closed."""


class AuthenticationFailed(Unreachable):
    """The server refused our credentials (or the key file is missing/encrypted)."""
