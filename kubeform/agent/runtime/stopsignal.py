"""The signal that stops a container: the image's ``StopSignal``, else SIGTERM.

Why: an image says how it wants to be stopped (nginx's says SIGQUIT: a graceful
shutdown, where SIGTERM is a fast one), and container runtimes honour it (docker stop,
containerd's CRI); the kubelet sends it at the start of the grace period. The config may
spell it ``SIGQUIT``, ``QUIT`` or ``3``; both drivers want one canonical spelling. Pure.
"""

import signal

DEFAULT = "SIGTERM"


def canonical(text: str) -> str:
    """``SIGQUIT`` for any spelling of a known signal (``sigquit``, ``QUIT``, ``3``);
    SIGTERM for an empty or unknown one (as docker falls back to its default)."""
    value = (text or "").strip().upper()
    if not value:
        return DEFAULT
    if value.isdigit():
        try:
            return signal.Signals(int(value)).name
        except ValueError:
            return DEFAULT
    if not value.startswith("SIG"):
        value = "SIG" + value
    if value in ("SIGRTMIN", "SIGRTMAX") or not hasattr(signal, value) or not isinstance(getattr(signal, value), signal.Signals):
        return DEFAULT
    return value


def short(text: str) -> str:
    """The name without ``SIG`` (``QUIT``): what ``crun kill`` is given."""
    return canonical(text)[3:]
