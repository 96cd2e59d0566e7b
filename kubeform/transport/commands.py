"""Pure command building shared by the SSH and local transports.

Why a module of its own: quoting and sudo wrapping decide what actually runs as root on
a host, so they are plain functions of their inputs, tested case by case
(tests/data/transport/commands.yaml), and both transports build commands the same way.
"""

from __future__ import annotations

import math
import shlex

TTY_REQUIRED_MARKERS = ("must have a tty", "no tty present")
PASSWORD_REQUIRED_MARKERS = ("a password is required", "a terminal is required")


def needs_sudo(login_user: str, become: bool, become_user: str) -> bool:
    """Sudo only when asked to become someone else than who we already are."""
    return become and become_user != login_user


def wrap_command(
    command: str,
    *,
    login_user: str,
    become: bool = False,
    become_user: str = "root",
    sudo_password: bool = False,
    kill_after: float | None = None,
) -> str:
    """The exact command line sent to the host.

    Always ``/bin/sh -c '<command>'`` so the user's login shell (bash, csh, fish) does
    not change the meaning of the command. With become: ``sudo -n`` (never prompts, so
    a missing NOPASSWD rule fails fast instead of hanging), or ``sudo -S -p ''`` when a
    become password will be fed as the first line of stdin (an empty prompt keeps
    stderr clean). ``-H`` gives the target user's HOME, like Ansible.

    ``kill_after``: the caller's timeout. Closing an SSH channel does not stop the
    command, so coreutils ``timeout`` ends it on the host shortly after the caller gave
    up (one second of grace, then SIGKILL five seconds later): a hung command must not
    keep holding a package-manager lock.
    """
    inner = "/bin/sh -c " + shlex.quote(command)
    if kill_after is not None:
        inner = f"timeout -k 5 {math.ceil(kill_after) + 1} {inner}"
    if not needs_sudo(login_user, become, become_user):
        return inner
    user = shlex.quote(become_user)
    if sudo_password:
        return f"sudo -H -S -p '' -u {user} -- {inner}"
    return f"sudo -H -n -u {user} -- {inner}"


def sudo_probe_command(become_user: str) -> str:
    """Asks sudo whether it would need a password, without running anything."""
    return f"sudo -n -u {shlex.quote(become_user)} -- /bin/true"


def install_script(path: str, mode: int | None) -> str:
    """A shell script (run with sudo) that atomically replaces ``path`` with its stdin.

    Used when the login user cannot write ``path`` itself. The content is written to a
    temp file in the same directory with umask 077 (a secret is never readable while
    partially written), given its mode (``mode``; else the old file's mode; else 0644),
    then renamed over ``path``; the temp file is removed on any failure.
    """
    if mode is not None:
        set_mode = f'chmod {mode:o} "$tmp"'
    else:
        set_mode = (
            'if [ -e "$dst" ]; then chmod "$(stat -c %a "$dst")" "$tmp"; else chmod 644 "$tmp"; fi'
        )
    return (
        f"dst={shlex.quote(path)}; "
        'tmp="$(dirname "$dst")/.$(basename "$dst").kf-$$.tmp"; '
        "trap 'rm -f \"$tmp\"' EXIT; "
        '(umask 077 && cat > "$tmp") && '
        f"{set_mode} && "
        'mv -f "$tmp" "$dst"'
    )


def stderr_mentions(stderr: str, markers: tuple[str, ...]) -> bool:
    """Whether sudo's stderr says one of the things we react to (case-insensitive)."""
    low = stderr.lower()
    return any(marker in low for marker in markers)
