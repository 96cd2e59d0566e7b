"""Pure helpers for package versions: rpm's version ordering and package specs.

The package and kernel modules must decide "is the installed version new enough" without
asking the host, so rpm's comparison (``rpmvercmp``) lives here as a pure function; no
well-kept PyPI library offers it without linking librpm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEGMENT = re.compile(r"(~|\^|[0-9]+|[A-Za-z]+)")


def rpm_vercmp(a: str, b: str) -> int:
    """rpm's ``rpmvercmp``: -1, 0 or 1, so versions sort as yum and dnf sort them.

    Segments are runs of digits or letters; digits beat letters, ``~`` sorts before
    anything (pre-releases) and ``^`` after the base version (snapshots).
    """
    if a == b:
        return 0
    sa, sb = _SEGMENT.findall(a), _SEGMENT.findall(b)
    i = 0
    while True:
        xa = sa[i] if i < len(sa) else None
        xb = sb[i] if i < len(sb) else None
        i += 1
        if xa == "~" or xb == "~":
            if xa != xb:
                return -1 if xa == "~" else 1
            continue
        if xa == "^" or xb == "^":
            if xa is None:
                return -1
            if xb is None:
                return 1
            if xa != xb:
                return 1 if xa == "^" else -1
            continue
        if xa is None or xb is None:
            if xa is None and xb is None:
                return 0
            return -1 if xa is None else 1
        if xa.isdigit() != xb.isdigit():
            return 1 if xa.isdigit() else -1
        if xa.isdigit():
            na, nb = int(xa), int(xb)
            if na != nb:
                return -1 if na < nb else 1
        elif xa != xb:
            return -1 if xa < xb else 1


@dataclass(frozen=True, order=False)
class EVR:
    """An rpm epoch:version-release; ``parse`` accepts ``1:1.20.1-10.el7`` and ``(none)``."""

    epoch: int
    version: str
    release: str

    @classmethod
    def parse(cls, text: str) -> EVR:
        epoch = 0
        if ":" in text:
            head, text = text.split(":", 1)
            epoch = int(head) if head.isdigit() else 0
        version, _, release = text.partition("-")
        return cls(epoch, version, release)

    def compare(self, other: EVR) -> int:
        """rpm ordering; an empty release on either side matches any release."""
        if self.epoch != other.epoch:
            return -1 if self.epoch < other.epoch else 1
        res = rpm_vercmp(self.version, other.version)
        if res or not self.release or not other.release:
            return res
        return rpm_vercmp(self.release, other.release)

    def __str__(self) -> str:
        out = f"{self.epoch}:" if self.epoch else ""
        return out + self.version + (f"-{self.release}" if self.release else "")


_OPS = (">=", "<=", "==", "!=", ">", "<", "=")


@dataclass(frozen=True)
class Spec:
    """One requested package: how the user wrote it, and what it means for the manager.

    ``name`` is the package name when it can be known without the host (an operator
    spec such as ``docker-ce >= 19.03`` or apt's ``nginx=1.18.*``); for rpm's
    ``name-version`` form the host's ``rpm -q`` resolves it, so ``name`` is the raw spec.
    """

    raw: str
    name: str
    op: str | None = None
    version: str | None = None
    is_file: bool = False

    @property
    def install_arg(self) -> str:
        """The word given to the package manager's install command."""
        if self.op and self.op != "=":
            return f"{self.name} {self.op} {self.version}"
        return self.raw


def is_rpm_file(spec: str) -> bool:
    """A local path or URL of an .rpm, which yum/dnf install directly (as Ansible does)."""
    return spec.endswith(".rpm") and (
        spec.startswith("/") or "://" in spec or spec.startswith("./")
    )


def parse_spec(raw: str, family: str) -> Spec:
    """Split ``raw`` for ``family`` (``rpm`` or ``deb``) into name, operator and version."""
    text = raw.strip()
    if family == "rpm" and is_rpm_file(text):
        return Spec(raw=text, name=text, is_file=True)
    for op in _OPS:
        if family == "deb" and op != "=":
            continue
        if op in text:
            name, _, version = text.partition(op)
            name, version = name.strip(), version.strip()
            if name and version and not name.endswith(("<", ">", "!")):
                return Spec(raw=text.replace(" ", ""), name=name, op=op, version=version)
    return Spec(raw=text, name=text)


def satisfies(installed: str, op: str, wanted: str, family: str) -> bool:
    """Whether an installed version meets ``op wanted`` (apt's ``=`` may hold ``*`` globs)."""
    if family == "deb":
        from fnmatch import fnmatchcase

        return fnmatchcase(installed, wanted)
    have = EVR.parse(installed)
    if ":" not in wanted:  # a version without epoch matches any epoch, as yum's deps do
        have = EVR(0, have.version, have.release)
    res = have.compare(EVR.parse(wanted))
    return {
        ">=": res >= 0,
        "<=": res <= 0,
        ">": res > 0,
        "<": res < 0,
        "==": res == 0,
        "=": res == 0,
        "!=": res != 0,
    }[op]
