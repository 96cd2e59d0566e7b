"""Whether an address can name a host to connect to: an IP address or a DNS name.

An inventory host name doubles as the address when ``ansible_host`` is not set, and a
name the resolver cannot take (``a..b``, a label of 64 characters, 300 bytes) used to
end deep in the socket layer as an ``idna`` codec error. This says what is wrong
first, with RFC 1123's limits: labels of 1-63 characters, 253 in all.
"""

from __future__ import annotations

import ipaddress
import re

from kubeform.errors import shorten

MAX_NAME = 253
MAX_LABEL = 63
# Letters, digits, '-' and (tolerated by every resolver in practice) '_'; non-ASCII
# labels are checked after IDNA encoding.
_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$")


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot be connected to, or None when it is an IP or a DNS name."""
    try:
        ipaddress.ip_address(address.strip("[]"))
        return None
    except ValueError:
        pass
    name = address[:-1] if address.endswith(".") else address
    if not name:
        return "empty host name"
    try:
        ascii_name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return f"{shorten(address)} is not a valid DNS name (a label is empty or longer than {MAX_LABEL} characters)"
    if len(ascii_name) > MAX_NAME:
        return f"{shorten(address)} is not a valid DNS name: {len(ascii_name)} characters (at most {MAX_NAME})"
    for label in ascii_name.split("."):
        if not label:
            return f"{shorten(address)} is not a valid DNS name: empty label (two dots in a row?)"
        if len(label) > MAX_LABEL:
            return f"{shorten(address)} is not a valid DNS name: label {shorten(label)} is longer than {MAX_LABEL} characters"
        if not _LABEL.match(label):
            return (
                f"{shorten(address)} is not a valid DNS name: label {shorten(label)} "
                "may hold only letters, digits and '-' (not first or last)"
            )
    return None
