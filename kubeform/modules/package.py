"""package (yum, dnf, apt): packages present, absent or at the newest version.

One probe finds the package manager (dnf, else yum, else apt-get, unless ``use`` says;
a task written ``yum:``/``dnf:`` only looks for dnf and yum, ``apt:`` only for apt-get,
as Ansible's modules of those names only drive their own manager)
and queries every named package (``rpm -q`` / ``dpkg-query -W``, plus the available
version for ``latest``), so a package task costs one round trip. The plan then makes one
manager call per kind of change — install all missing packages in one command, upgrade
all outdated in one, remove in one — as Ansible's yum/dnf/apt modules do.

Version forms follow each Ansible module: rpm ``nginx-1.20.1`` (resolved by ``rpm -q``
itself), ``docker-ce >= 19.03`` (compared here with rpm's ordering), a local path or URL
of an ``.rpm``; apt ``nginx=1.18.*`` (glob on the installed version).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kubeform.modules._el import HostUnfit, sections
from kubeform.modules._pkg import EVR, Spec, parse_spec, satisfies
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

RPM_QF = r"%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH}\n"
DEB_QF = r"${Package}\t${Status}\t${Version}\n"
APT_ENV = "DEBIAN_FRONTEND=noninteractive"
APT_OPTS = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
MANAGERS = ("dnf", "yum", "apt-get")


@dataclass(frozen=True)
class Installed:
    """One installed package as rpm/dpkg report it."""

    name: str
    version: str  # rpm: [epoch:]version-release; deb: the Debian version
    arch: str = ""


@dataclass
class PackageState:
    """Parsed probe: the manager and, per spec, what is installed or available."""

    manager: str = ""
    rpm: dict[str, list[Installed]] = field(default_factory=dict)  # spec -> installed
    files: dict[str, Installed | None] = field(default_factory=dict)  # rpm file -> its header
    deb: dict[str, Installed] = field(default_factory=dict)  # name -> installed
    available: dict[str, str] = field(default_factory=dict)  # name -> newest EVR
    candidates: dict[str, str] = field(default_factory=dict)  # apt name -> candidate
    cache_age: int | None = None  # seconds since apt's cache was updated (cache_valid_time)


def as_list(value: Any) -> list[str]:
    """Ansible accepts a list or a comma-separated string for names and repos."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _evr_text(evr: str) -> str:
    """rpm prints ``(none):1.2-3`` for epoch-less packages; drop the placeholder."""
    return evr.replace("(none):", "", 1) if evr.startswith("(none):") else evr.removeprefix("0:")


def _rpm_lines(text: str) -> list[Installed]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and ":" in parts[1] and not line.startswith(("package ", "error")):
            out.append(Installed(parts[0], _evr_text(parts[1]), parts[2]))
    return out


def parse_available(text: str) -> dict[str, str]:
    """``yum/dnf list available`` (name.arch, version, repo; long names wrap) -> newest."""
    words: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.rstrip().endswith(("Packages", "Upgrades", ":")):
            continue
        words.extend(line.split())
    newest: dict[str, str] = {}
    for i in range(0, len(words) - 2, 3):
        name_arch, version = words[i], words[i + 1]
        name = name_arch.rsplit(".", 1)[0]
        if name not in newest or EVR.parse(version).compare(EVR.parse(newest[name])) > 0:
            newest[name] = _evr_text(version)
    return newest


def parse_policy(text: str) -> dict[str, str]:
    """``apt-cache policy``: name -> candidate version (``(none)`` when not available)."""
    out: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            current = line.strip()[:-1]
        elif line.strip().startswith("Candidate:") and current:
            out[current] = line.split(":", 1)[1].strip()
    return out


def parse_state(stdout: str, rc: int) -> PackageState:
    """Parse the probe built by ``probe_command`` (sections marked ``== kind spec``)."""
    state = PackageState()
    stamps: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith(("manager=", "cache_mtime=", "now=")):
            key, _, value = line.partition("=")
            stamps[key] = value.strip()
        elif line.startswith("=="):
            break
    state.manager = stamps.get("manager", "")
    if stamps.get("cache_mtime", "").isdigit() and stamps.get("now", "").isdigit():
        state.cache_age = int(stamps["now"]) - int(stamps["cache_mtime"])
    for head, body in sections(stdout).items():
        kind, _, spec = head.partition(" ")
        if kind == "rpm":
            state.rpm[spec] = _rpm_lines(body)
        elif kind == "file":
            found = _rpm_lines(body)
            state.files[spec] = found[0] if found else None
        elif kind == "deb":
            for line in body.splitlines():
                parts = line.split("\t")
                if len(parts) == 3 and parts[1].split()[-1:] == ["installed"]:
                    state.deb[parts[0].split(":")[0]] = Installed(parts[0], parts[2])
        elif kind == "available":
            state.available = parse_available(body)
        elif kind == "policy":
            state.candidates = parse_policy(body)
    return state


def _detect(use: str, family: str = "") -> str:
    if use != "auto":
        return f"mgr={'apt-get' if use == 'apt' else use}"
    managers = {"rpm": "dnf yum", "deb": "apt-get"}.get(family, "dnf yum apt-get")
    return (
        f"mgr=; for m in {managers}; do "
        'if command -v "$m" >/dev/null 2>&1; then mgr=$m; break; fi; done'
    )


# Where Ansible's apt reads the cache's age for ``cache_valid_time``.
CACHE_STAMP = (
    "echo cache_mtime=$(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null"
    " || stat -c %Y /var/lib/apt/lists 2>/dev/null); echo now=$(date +%s); "
)


def probe_command(names: Sequence[str], use: str, latest: bool, cache_age: bool = False, family: str = "") -> str:
    """One shell command reporting the manager and the state of every named package."""
    rpm_parts: list[str] = []
    query_names: list[str] = []
    for raw in names:
        spec = parse_spec(raw, "rpm")
        q = shlex.quote(spec.raw)
        if spec.is_file:
            rpm_parts.append(
                f"echo {shlex.quote('== file ' + spec.raw)}; "
                f"rpm -qp --qf '{RPM_QF}' {q} 2>&1; "
                f"echo {shlex.quote('== rpm ' + spec.raw)}; "
                f"n=$(rpm -qp --qf '%{{NAME}}' {q} 2>/dev/null) && "
                f"rpm -q --qf '{RPM_QF}' \"$n\" 2>&1"
            )
            continue
        target = spec.name if spec.op else spec.raw
        query_names.append(shlex.quote(target))
        rpm_parts.append(
            f"echo {shlex.quote('== rpm ' + spec.raw)}; "
            f"rpm -q --qf '{RPM_QF}' {shlex.quote(target)} 2>&1"
        )
    if latest and query_names:
        rpm_parts.append(
            f'echo "== available"; "$mgr" -q list available {" ".join(query_names)} 2>/dev/null'
        )
    deb_names = [shlex.quote(parse_spec(raw, "deb").name) for raw in names]
    deb_parts = []
    if deb_names:
        deb_parts.append(
            f"echo '== deb'; dpkg-query -W -f='{DEB_QF}' {' '.join(deb_names)} 2>/dev/null"
        )
    if latest and deb_names:
        deb_parts.append(f"echo '== policy'; apt-cache policy {' '.join(deb_names)} 2>/dev/null")
    return (
        f'{_detect(use, family)}; echo "manager=$mgr"; {CACHE_STAMP if cache_age else ""}case "$mgr" in '
        f"dnf|yum) {'; '.join(rpm_parts)};; "
        f"apt-get) {'; '.join(deb_parts)};; "
        "esac; true"
    )


class Package(Module):
    """Ansible's ``package``/``yum``/``dnf``/``apt`` with their common arguments."""

    name: ClassVar[str] = "package"
    aliases: ClassVar[tuple[str, ...]] = ("yum", "dnf", "apt")
    _names: ClassVar[Mapping[str, Any]] = {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string", "minLength": 1}},
        ]
    }
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": _names,
            "pkg": _names,
            "state": {"enum": ["present", "installed", "latest", "absent", "removed"]},
            "update_cache": {"type": "boolean"},
            "enablerepo": _names,
            "disablerepo": _names,
            "disable_gpg_check": {"type": "boolean"},
            "install_recommends": {"type": "boolean"},
            "purge": {"type": "boolean"},
            "use": {"enum": ["auto", "yum", "dnf", "apt"]},
            "cache_valid_time": {"type": "integer", "minimum": 0},
            "policy_rc_d": {"type": "integer"},
            "allow_downgrade": {"type": "boolean"},
            "lock_timeout": {"type": "integer"},
        },
    }

    def _names_of(self, args: Mapping[str, Any]) -> list[str]:
        names = as_list(args.get("name", args.get("pkg")))
        for n in names:
            if n.startswith("@"):
                raise ModuleArgError(f"package groups ({n}) are not supported", field="name")
            if n == "*":
                raise ModuleArgError("'*' (upgrade everything) is not supported", field="name")
        return names

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        names = self._names_of(args)
        use = str(args.get("use", "auto"))
        latest = args.get("state") == "latest"
        age = args.get("cache_valid_time") is not None
        family = str(args.get("_family") or "")
        mark = ("+age" if age else "") + (f"/{family}" if family else "")
        if not names:
            return [Fact(f"package[{use}]{mark}:", probe_command([], use, False, age, family), parse_state, volatile=age)]
        key = f"package[{use}]{'+latest' if latest else ''}{mark}:{','.join(names)}"
        return [Fact(key, probe_command(names, use, latest, age, family), parse_state)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        names = self._names_of(args)
        if args.get("cache_valid_time") is not None and "update_cache" not in args:
            args = {**args, "update_cache": True}  # as in Ansible >= 2.4
        if not names and not args.get("update_cache"):
            raise ModuleArgError("name is required (or update_cache: true)", field="name")
        (fact,) = self.facts(args)
        state: PackageState = facts[fact.key]
        if not state.manager:
            wanted = {"rpm": "neither dnf nor yum, which a yum/dnf task needs", "deb": "no apt-get, which an apt task needs"}.get(
                str(args.get("_family") or ""), "none of dnf, yum or apt-get")
            raise HostUnfit(f"no package manager found on the host ({wanted})")
        mgr = state.manager
        family = "deb" if mgr == "apt-get" else "rpm"
        if family == "deb" and (args.get("enablerepo") or args.get("disablerepo")):
            raise ModuleArgError("enablerepo/disablerepo are for yum and dnf", field="enablerepo")
        cmd = Commands(mgr, args)
        valid = args.get("cache_valid_time")
        fresh = family == "deb" and valid is not None and state.cache_age is not None and state.cache_age < int(valid)
        if fresh:
            args = {**args, "update_cache": False}
        if not names:
            if not args.get("update_cache"):
                return []
            return [Change("change", "update the package cache", (Run(cmd.refresh()),))]
        specs = [parse_spec(n, family) for n in names]
        wanted = {"installed": "present", "removed": "absent"}.get(
            str(args.get("state", "present")), str(args.get("state", "present"))
        )
        if wanted == "absent":
            changes = _plan_remove(specs, state, family, cmd)
        else:
            changes = _plan_install(specs, state, family, cmd, wanted == "latest")
        if changes and args.get("update_cache"):
            first = changes[0]
            changes[0] = Change(
                first.action, first.summary, (Run(cmd.refresh()), *first.steps), first.diff
            )
        return changes


class Commands:
    """The package manager's command lines for this task's options."""

    def __init__(self, mgr: str, args: Mapping[str, Any]) -> None:
        self.mgr = mgr
        flags = [f"--enablerepo={r}" for r in as_list(args.get("enablerepo"))]
        flags += [f"--disablerepo={r}" for r in as_list(args.get("disablerepo"))]
        if args.get("disable_gpg_check") and mgr != "apt-get":
            flags.append("--nogpgcheck")
        self.flags = "".join(f" {shlex.quote(f)}" for f in flags)
        self.recommends = "" if args.get("install_recommends", True) else " --no-install-recommends"
        self.purge = bool(args.get("purge"))
        self.downgrade = " --allow-downgrades" if args.get("allow_downgrade") else ""
        self.policy_rc_d = args.get("policy_rc_d")

    def _apt(self, verb: str) -> str:
        return f"{APT_ENV} apt-get {APT_OPTS} {verb} -y"

    def _with_policy(self, command: str) -> str:
        """``policy_rc_d``: services' start/stop answered by /usr/sbin/policy-rc.d meanwhile."""
        if self.policy_rc_d is None or self.mgr != "apt-get":
            return command
        code = int(self.policy_rc_d)
        return (
            f"printf '#!/bin/sh\\nexit {code}\\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d; "
            f"{command}; rc=$?; rm -f /usr/sbin/policy-rc.d; exit $rc"
        )

    def refresh(self) -> str:
        if self.mgr == "apt-get":
            return "apt-get update"
        return f"{self.mgr}{self.flags} makecache" + (" fast" if self.mgr == "yum" else "")

    def install(self, words: list[str]) -> str:
        tail = " ".join(shlex.quote(w) for w in words)
        if self.mgr == "apt-get":
            return self._with_policy(f"{self._apt('install')}{self.recommends}{self.downgrade} {tail}")
        return f"{self.mgr}{self.flags} install -y {tail}"

    def upgrade(self, words: list[str]) -> str:
        tail = " ".join(shlex.quote(w) for w in words)
        if self.mgr == "apt-get":
            return self._with_policy(f"{self._apt('install')} --only-upgrade {tail}")
        verb = "update" if self.mgr == "yum" else "upgrade"
        return f"{self.mgr}{self.flags} {verb} -y {tail}"

    def remove(self, words: list[str]) -> str:
        tail = " ".join(shlex.quote(w) for w in words)
        if self.mgr == "apt-get":
            return self._with_policy(f"{self._apt('purge' if self.purge else 'remove')} {tail}")
        return f"{self.mgr} remove -y {tail}"


def _installed(spec: Spec, state: PackageState, family: str) -> list[Installed]:
    if family == "deb":
        found = state.deb.get(spec.name)
        return [found] if found else []
    return state.rpm.get(spec.raw, [])


def _satisfied(spec: Spec, state: PackageState, family: str) -> bool:
    have = _installed(spec, state, family)
    if spec.is_file:
        header = state.files.get(spec.raw)
        return header is not None and any(
            EVR.parse(h.version).compare(EVR.parse(header.version)) == 0 for h in have
        )
    if spec.op and spec.version:
        return any(satisfies(h.version, spec.op, spec.version, family) for h in have)
    return bool(have)


def _label(spec: Spec, state: PackageState) -> str:
    if spec.is_file:
        header = state.files.get(spec.raw)
        return header.name if header else spec.raw
    return spec.name


def _newest(items: list[Installed]) -> str:
    best = items[0].version
    for item in items[1:]:
        if EVR.parse(item.version).compare(EVR.parse(best)) > 0:
            best = item.version
    return best


def _diff(rows: list[tuple[str, str, str]]) -> Diff:
    """``package nginx: absent -> 1.20.1``, or one line per package for several."""
    if len(rows) == 1:
        name, before, after = rows[0]
        return Diff(f"package {name}", before, after)
    return Diff(
        "packages",
        ", ".join(f"{n} {b}" for n, b, _ in rows),
        ", ".join(f"{n} {a}" for n, _, a in rows),
    )


def _plan_install(
    specs: list[Spec], state: PackageState, family: str, cmd: Commands, latest: bool
) -> list[Change]:
    missing: list[tuple[Spec, tuple[str, str, str]]] = []
    outdated: list[tuple[str, tuple[str, str, str]]] = []
    for spec in specs:
        have = _installed(spec, state, family)
        if not _satisfied(spec, state, family):
            before = _newest(have) if have else "absent"
            if spec.is_file:
                header = state.files.get(spec.raw)
                after = header.version if header else "present"
            elif spec.op:
                after = str(spec.version) if spec.op in ("=", "==") else f"{spec.op} {spec.version}"
            else:
                after = "latest" if latest else "present"
            missing.append((spec, (_label(spec, state), before, str(after))))
        elif latest and not spec.is_file:
            current = _newest(have)
            if family == "deb":
                cand = state.candidates.get(spec.name, "")
                if cand and cand != "(none)" and cand != current:
                    outdated.append((spec.name, (spec.name, current, cand)))
            else:
                for name in dict.fromkeys(h.name for h in have):
                    mine = _newest([h for h in have if h.name == name])
                    avail = state.available.get(name)
                    if avail and EVR.parse(avail).compare(EVR.parse(mine)) > 0:
                        outdated.append((name, (name, mine, avail)))
    changes: list[Change] = []
    if missing:
        words = [s.install_arg for s, _ in missing]
        changes.append(
            Change(
                "add",
                "install " + ", ".join(r[0] for _, r in missing),
                (Run(cmd.install(words)),),
                _diff([r for _, r in missing]),
            )
        )
    if outdated:
        changes.append(
            Change(
                "change",
                "upgrade " + ", ".join(n for n, _ in outdated),
                (Run(cmd.upgrade([n for n, _ in outdated])),),
                _diff([r for _, r in outdated]),
            )
        )
    return changes


def _plan_remove(
    specs: list[Spec], state: PackageState, family: str, cmd: Commands
) -> list[Change]:
    rows: list[tuple[str, str, str]] = []
    words: list[str] = []
    for spec in specs:
        have = _installed(spec, state, family)
        if not have:
            continue
        if spec.is_file or spec.op:
            names = list(dict.fromkeys(h.name for h in have))
        else:
            names = [spec.raw]
        words.extend(names)
        rows.append((_label(spec, state), _newest(have), "absent"))
    if not words:
        return []
    return [
        Change(
            "remove",
            "remove " + ", ".join(r[0] for r in rows),
            (Run(cmd.remove(words)),),
            _diff(rows),
        )
    ]
