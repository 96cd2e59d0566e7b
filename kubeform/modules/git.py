"""git: a working copy of a repository at a version (Ansible's ``ansible.builtin.git``).

One probe reads the checkout at ``dest`` (HEAD, the ``origin`` URL, local changes) and
asks the remote which commit ``version`` names (``git ls-remote``, from the host as
Ansible does in check mode), so the plan says ``before -> after`` commits. A missing
``dest`` is cloned; an existing checkout is fetched and checked out when the commits
differ (unless ``update: no``). Local changes fail the task unless ``force``, as in
Ansible. The result carries ``before``, ``after`` and ``remote_url_changed``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult

_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def parse_git(out: str, rc: int) -> dict[str, Any]:
    """The probe's ``key=value`` lines and the ``ls-remote`` listing."""
    vals: dict[str, Any] = {"refs": {}, "dirty": False}
    for line in out.splitlines():
        if "\t" in line and _SHA.match(line.split("\t", 1)[0]):
            sha, ref = line.split("\t", 1)
            vals["refs"][ref.strip()] = sha
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "dirty":
            vals["dirty"] = bool(value.strip())
        else:
            vals[key] = value.strip()
    return vals


def remote_commit(refs: Mapping[str, str], version: str) -> str | None:
    """The commit ``version`` names on the remote (HEAD, a branch, a tag), or None."""
    if version == "HEAD":
        return refs.get("HEAD")
    for ref in (f"refs/tags/{version}^{{}}", f"refs/tags/{version}", f"refs/heads/{version}", version):
        if ref in refs:
            return refs[ref]
    return None


class Git(Module):
    """``repo``, ``dest``, ``version``, ``update``, ``force``, ``depth``, ``clone``, ``bare``..."""

    name: ClassVar[str] = "git"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["repo", "dest"],
        "properties": {
            "repo": {"type": "string", "minLength": 1},
            "name": {"type": "string"},
            "dest": {"type": "string", "minLength": 1},
            "version": {"type": ["string", "number"]},
            "update": {"type": "boolean"},
            "force": {"type": "boolean"},
            "clone": {"type": "boolean"},
            "depth": {"type": "integer", "minimum": 1},
            "single_branch": {"type": "boolean"},
            "recursive": {"type": "boolean"},
            "track_submodules": {"type": "boolean"},
            "accept_hostkey": {"type": "boolean"},
            "accept_newhostkey": {"type": "boolean"},
            "key_file": {"type": "string"},
            "ssh_opts": {"type": "string"},
            "remote": {"type": "string"},
            "umask": {"type": ["string", "integer"]},
            "executable": {"type": "string"},
        },
    }

    @staticmethod
    def _git(args: Mapping[str, Any]) -> str:
        """``git`` with the ssh options the task asks for (host key, key file)."""
        ssh: list[str] = []
        if args.get("accept_hostkey"):
            ssh.append("-o StrictHostKeyChecking=no")
        elif args.get("accept_newhostkey"):
            ssh.append("-o StrictHostKeyChecking=accept-new")
        if args.get("key_file"):
            ssh.append(f"-i {shlex.quote(str(args['key_file']))} -o IdentitiesOnly=yes")
        if args.get("ssh_opts"):
            ssh.append(str(args["ssh_opts"]))
        exe = shlex.quote(str(args.get("executable") or "git"))
        return (f"GIT_SSH_COMMAND={shlex.quote('ssh ' + ' '.join(ssh))} " if ssh else "") + exe

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        dest, repo = shlex.quote(str(args["dest"])), shlex.quote(str(args["repo"]))
        remote = shlex.quote(str(args.get("remote") or "origin"))
        git = self._git(args)
        cmd = (
            f"( if ! command -v {shlex.quote(str(args.get('executable') or 'git'))} >/dev/null 2>&1; then echo git=missing; exit 0; fi; "
            f"if [ -e {dest}/.git ] || [ -e {dest}/HEAD -a -d {dest}/objects ]; then echo exists=yes; "
            f"echo head=$(cd {dest} && {git} rev-parse HEAD 2>/dev/null); "
            f"echo url=$(cd {dest} && {git} config --get remote.{remote}.url 2>/dev/null); "
            f"echo dirty=$(cd {dest} && {git} status --porcelain --untracked-files=no 2>/dev/null | head -1); "
            f"elif [ -e {dest} ] && [ -n \"$(ls -A {dest} 2>/dev/null)\" ]; then echo exists=notrepo; else echo exists=no; fi; "
            f"echo '== remote'; GIT_TERMINAL_PROMPT=0 {git} ls-remote {repo} 2>&1 | head -2000; echo ls_rc=$? )"
        )
        return [Fact(f"git:{args['dest']}", cmd, parse_git, volatile=True)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found = facts[f"git:{args['dest']}"]
        if found.get("git") == "missing":
            raise ModuleArgError("Failed to find required executable git on the host (install it first)")
        dest, repo = str(args["dest"]), str(args["repo"])
        version = str(args.get("version", "HEAD"))
        qd, qr = shlex.quote(dest), shlex.quote(repo)
        git = self._git(args)
        want = version if _SHA.match(version) else remote_commit(found["refs"], version)
        if want is None:
            if not found["refs"]:
                raise ModuleArgError(f"cannot read the remote {repo} from the host", field="repo")
            raise ModuleArgError(f"version {version!r} is not a branch, tag or commit of {repo}", field="version")
        exists = found.get("exists")
        if exists == "notrepo":
            raise ModuleArgError(f"{dest} exists, is not empty and is not a git checkout", field="dest")
        if exists != "yes":
            if args.get("clone", True) is False:
                return []
            opts = f" --depth {int(args['depth'])}" if args.get("depth") else ""
            if args.get("depth") and version != "HEAD" and not _SHA.match(version):
                opts += f" --branch {shlex.quote(version)}"
            if args.get("single_branch"):
                opts += " --single-branch"
            if args.get("recursive", True):
                opts += " --recursive"
            steps = [Run(f"{git} clone{opts} {qr} {qd}")]
            if version != "HEAD":
                steps.append(Run(f"cd {qd} && {git} checkout --force {shlex.quote(version)}"))
            return [Change("add", f"clone {repo} into {dest}", tuple(steps), Diff(f"git {dest}", None, f"{want}\n"))]
        head = found.get("head") or ""
        if args.get("update", True) is False or head.startswith(want) or want.startswith(head or "-"):
            return []
        if found["dirty"] and not args.get("force"):
            raise ModuleArgError(f"Local modifications exist in the repository at {dest} (force: true discards them)", field="force")
        remote = shlex.quote(str(args.get("remote") or "origin"))
        depth = f" --depth {int(args['depth'])}" if args.get("depth") else ""
        fetch = Run(f"cd {qd} && {git} fetch --tags{depth} {remote}")
        if version == "HEAD":
            move = f"{git} reset --hard {want}"  # the current branch follows the remote's HEAD
        elif f"refs/heads/{version}" in found["refs"]:
            move = f"{git} checkout --force -B {shlex.quote(version)} {want}"
        else:  # a tag or a commit: detached, as Ansible leaves it
            move = f"{git} checkout --force {want}"
        update = (fetch, Run(f"cd {qd} && {move}"))
        return [Change("change", f"update {dest} to {version}", update, Diff(f"git {dest}", f"{head}\n", f"{want}\n"))]

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        found = facts.get(f"git:{args['dest']}") or {}
        version = str(args.get("version", "HEAD"))
        want = version if _SHA.match(version) else remote_commit(found.get("refs", {}), version)
        before = found.get("head") or None
        return {"before": before, "after": want if steps else before, "remote_url_changed": bool(found.get("url")) and found.get("url") != args["repo"]}
