"""Running plays: hosts in parallel, tasks in order per host, facts batched per host.

The imperative shell around the pure parts. For each play, every selected host gets a
``HostRun`` on a thread pool (``--forks``). A host run:

1. gathers system facts (``ansible_*``) first, only if some task reads one;
2. pre-renders every task it can and collects the facts those tasks will need;
3. for each task: renders its arguments, lets the module ``prepare`` them, asks for the
   task's facts (fetching every still-missing fact of the remaining tasks in the same
   single round trip), plans, and in apply mode executes the steps of each change;
   after a change, the cached facts are stale and are fetched again (batched) when the
   next task needs them; volatile facts (``Fact.volatile``: a port that may close again)
   are never fetched ahead, only right before the task that needs them;
4. runs the handlers notified on it, in handler order.

In check mode (``plan``) nothing is executed. A task whose input depends on a task that
would change (its registered result, or a handler it notified) cannot be planned
honestly; it is reported as ``depends on <task> (would change)``.

A failing host stops its own remaining tasks; other hosts go on (Ansible's default).
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kubeform.engine import templating
from kubeform.engine.facts_batch import BatchError, batch_script, new_nonce, parse_batch
from kubeform.engine.playbook import (
    ENGINE_ACTIONS,
    Block,
    ModuleResolver,
    Node,
    Play,
    Playbook,
    Task,
)
from kubeform.engine.results import ChangeView, RunResult, TaskResult
from kubeform.engine.tags import selected
from kubeform.engine.validation import check
from kubeform.engine.variables import Vars, to_plain
from kubeform.errors import UserError
from kubeform.inventory.model import Host, Inventory
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult
from kubeform.transport.base import Connection, TransportError, Unreachable
from kubeform.yamlsrc import LineDict

MAGIC_NAMES = frozenset(
    {
        "hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short",
        "play_hosts", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_check_mode",
        "omit", "playbook_dir", "ansible_facts", "item",
    }
)  # fmt: skip


class ConnectionSource(Protocol):
    """What the runner needs of a connection pool (kubeform.transport.pool.ConnectionPool)."""

    def get(self, host: Host) -> Connection: ...

    def reconnect(self, host: Host, timeout: float) -> Connection: ...


class Reporter(Protocol):
    """Receives progress events from host threads (implementations lock themselves)."""

    def play_start(self, play: Play, hosts: Sequence[str]) -> None: ...

    def task_start(self, host: str, task: str) -> None: ...

    def task_done(self, result: TaskResult) -> None: ...

    def host_done(self, host: str) -> None: ...


class NullReporter:
    """A reporter that ignores everything (tests, ``--json``)."""

    def play_start(self, play: Play, hosts: Sequence[str]) -> None:
        pass

    def task_start(self, host: str, task: str) -> None:
        pass

    def task_done(self, result: TaskResult) -> None:
        pass

    def host_done(self, host: str) -> None:
        pass


HostSelector = Callable[[Inventory, str, "str | None"], list[Host]]
"""``(inventory, pattern, limit) -> hosts`` (kubeform.inventory.patterns.select)."""


@dataclass
class Options:
    """Run options from the command line."""

    check: bool = False
    diff: bool = False
    forks: int = 10
    limit: str | None = None
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    extra_vars: Mapping[str, Any] = field(default_factory=dict)


class HostUnreachable(Exception):
    """Raised inside a host run to stop it as unreachable."""


class _Depends(Exception):
    def __init__(self, task: str) -> None:
        super().__init__(task)
        self.task = task


def _default_selector(inventory: Inventory, pattern: str, limit: str | None) -> list[Host]:
    from kubeform.inventory.patterns import select

    return select(inventory, pattern, limit)


def _default_system_fact() -> Fact | None:
    # Imported by name: the facts module lands separately and must not break this one.
    try:
        mod = importlib.import_module("kubeform.modules.facts")
    except ImportError:
        return None
    fact = getattr(mod, "SYSTEM_FACTS", None)
    return fact if isinstance(fact, Fact) else None


def _truthy(value: Any) -> bool:
    return templating.FILTERS["bool"](value)  # type: ignore[no-any-return]


@dataclass
class _Item:
    """The outcome of one loop item (or of a task without loop)."""

    status: str  # ok | changed | failed | skipped
    result: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    msg: str = ""
    label: str | None = None
    would_run: bool = False  # check mode: the plan had steps that did not run


@dataclass
class _Prepared:
    """A module call ready to plan: arguments after prepare, the module, the facts it needs."""

    module: Module
    args: dict[str, Any]
    facts: list[Fact]


class _PrepareContext:
    """``PrepareContext`` for modules: local files next to the playbook, task templating."""

    def __init__(self, base_dir: str, variables: Vars) -> None:
        self.base_dir = base_dir
        self._vars = variables

    def read_local(self, path: str) -> bytes:
        p = Path(path)
        candidates = [p] if p.is_absolute() else [Path(self.base_dir) / sub / p for sub in ("", "files", "templates")]
        for c in candidates:
            if c.is_file():
                return c.read_bytes()
        raise ModuleArgError(f"no such local file: {path} (looked in {', '.join(str(c.parent) for c in candidates)})", field="src")

    def render(self, text: str) -> str:
        return str(templating.render_string(text, self._vars)) if templating.is_template(text) else text


class _StepContext:
    """``StepContext`` for steps: the host's connection, become, and reconnect via the pool."""

    def __init__(self, run: HostRun, become: bool, become_user: str) -> None:
        self._run = run
        self.conn = run.connection()
        self.become = become
        self.become_user = become_user

    def reconnect(self, timeout: float) -> Connection:
        try:
            self.conn = self._run.shared.pool.reconnect(self._run.host, timeout)
        except Unreachable as err:
            raise HostUnreachable(str(err)) from None
        self._run.conn = self.conn
        self._run.forget_system_facts()
        return self.conn


@dataclass
class PlayShared:
    """What every host run of one play shares (read-only, or locked)."""

    playbook: Playbook
    play: Play
    options: Options
    pool: ConnectionSource
    reporter: Reporter
    resolver: ModuleResolver
    inventory: Inventory
    hosts: list[str]
    hostvars: dict[str, dict[str, Any]]
    system_fact: Fact | None
    needs_system_facts: bool
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def user_error(self, err: UserError) -> str:
        text = str(err)
        with self.lock:
            if text not in self.errors:
                self.errors.append(text)
        return text


class HostRun:
    """One host's run of one play (executed on a worker thread)."""

    def __init__(self, shared: PlayShared, host: Host) -> None:
        self.shared = shared
        self.host = host
        self.play = shared.play
        self.options = shared.options
        self.conn: Connection | None = None
        self.results: list[TaskResult] = []
        self.registered: dict[str, Any] = {}
        self.system_facts: dict[str, Any] = {}
        self.system_facts_stale = False  # set on reconnect (reboot): gather again
        self.fact_cache: dict[tuple[str, bool, str], Any] = {}
        self.candidates: dict[int, list[tuple[Fact, bool, str]]] = {}
        self.notified: dict[str, str] = {}  # handler name/topic -> notifying task
        # check mode: registered var -> (task whose result is unknown, whether it would change)
        self.pending: dict[str, tuple[str, bool]] = {}
        self.would_change: list[str] = []  # check mode: tasks that would change, in order
        self.current_seq = 0
        self.failed = False
        self.unreachable = False
        self.base_layers = self._base_layers()

    # -- variables ---------------------------------------------------------------

    def _base_layers(self) -> list[Mapping[str, Any]]:
        h = self.host
        magic = {
            "inventory_hostname": h.name,
            "inventory_hostname_short": h.name.split(".")[0],
            "group_names": sorted(g for g in h.groups if g != "all"),
            "groups": self.shared.inventory.groups,
            "hostvars": self.shared.hostvars,
            "play_hosts": self.shared.hosts,
            "ansible_play_hosts": self.shared.hosts,
            "ansible_play_hosts_all": self.shared.hosts,
            "ansible_check_mode": self.options.check,
            "omit": templating.OMIT,
            "playbook_dir": self.shared.playbook.base_dir,
        }
        return [magic, h.vars, self.system_facts, self.play.vars, self.play.vars_files]

    def variables(self, task: Task | None = None, loop: Mapping[str, Any] | None = None) -> Vars:
        layers = [*self.base_layers]
        if task is not None:
            layers.append(task.vars)
        layers.append(self.registered)
        if loop:
            layers.append(loop)
        layers.append(self.options.extra_vars)
        return Vars(*layers)

    # -- connection and facts -------------------------------------------------------

    def connection(self) -> Connection:
        if self.conn is None:
            try:
                self.conn = self.shared.pool.get(self.host)
            except Unreachable as err:
                raise HostUnreachable(str(err)) from None
        return self.conn

    def _gather(self, wanted: Iterable[tuple[Fact, bool, str]]) -> None:
        """Run every wanted fact not yet cached (volatile: always), one round trip per become setting."""
        groups: dict[tuple[bool, str], dict[str, Fact]] = {}
        for fact, become, user in wanted:
            if not fact.volatile and (fact.key, become, user) in self.fact_cache:
                continue
            groups.setdefault((become, user), {}).setdefault(fact.key, fact)
        for (become, user), facts in groups.items():
            ordered = list(facts.values())
            nonce = new_nonce()
            conn = self.connection()
            try:
                res = conn.run(batch_script(ordered, nonce), become=become, become_user=user)
                outputs = parse_batch(res.stdout, len(ordered), nonce)
            except Unreachable as err:
                raise HostUnreachable(str(err)) from None
            except BatchError as err:
                detail = (res.stderr or "").strip().splitlines()
                raise TransportError(f"{err}: {detail[-1] if detail else 'no output'}") from None
            for fact, (stdout, rc) in zip(ordered, outputs, strict=True):
                try:
                    value: Any = fact.parse(stdout, rc)
                except Exception as err:  # a probe's surprise must only fail the task using it
                    value = _ParseFailure(f"cannot parse fact {fact.key}: {type(err).__name__}: {err}")
                self.fact_cache[(fact.key, become, user)] = value

    def facts_for(self, facts: Sequence[Fact], become: bool, user: str) -> dict[str, Any]:
        keyed = [(f, become or f.become, user) for f in facts]
        missing = [k for k in keyed if k[0].volatile or (k[0].key, k[1], k[2]) not in self.fact_cache]
        if missing:
            later = [c for seq, cs in self.candidates.items() if seq > self.current_seq for c in cs]
            self._gather([*missing, *later])
        out: dict[str, Any] = {}
        for fact, b, u in keyed:
            value = self.fact_cache[(fact.key, b, u)]
            if isinstance(value, _ParseFailure):
                raise _TaskFailure(value.message)
            out[fact.key] = value
        return out

    def stale(self) -> None:
        """The host changed: every cached fact may be out of date."""
        self.fact_cache.clear()

    def forget_system_facts(self) -> None:
        """The host was reconnected to (e.g. rebooted): a new kernel, uptime, addresses.

        Only marked: the task that reconnected still sees the facts it started with; the
        next task that needs ``ansible_*`` gathers them again.
        """
        self.system_facts_stale = True

    def _ensure_system_facts(self) -> None:
        fact = self.shared.system_fact
        if (self.system_facts and not self.system_facts_stale) or fact is None:
            return
        self._gather([(fact, False, "root")])
        value = self.fact_cache.pop((fact.key, False, "root"))
        if isinstance(value, _ParseFailure):
            raise _TaskFailure(value.message)
        self.system_facts_stale = False
        if isinstance(value, Mapping):
            # Emptied in place: the dict is one of the variable layers.
            self.system_facts.clear()
            self.system_facts.update(value)
            self.system_facts["ansible_facts"] = {
                k[len("ansible_"):]: v for k, v in value.items() if k.startswith("ansible_")
            }
            with self.shared.lock:
                self.shared.hostvars.setdefault(self.host.name, {}).update(self.system_facts)

    def _prefetch_candidates(self) -> None:
        """Pre-render every task that can be rendered now and note the facts it will need."""
        for task in self.play.all_tasks():
            if task.action in ENGINE_ACTIONS or not self._selected(task):
                continue
            try:
                base = self.variables(task)
                become, user = self._become(task, base)
                wanted: list[tuple[Fact, bool, str]] = []
                for loop_vars in self._loop_vars(task, base):
                    v = base.child(loop_vars) if loop_vars else base
                    if task.when and not templating.conditions_hold(task.when, v):
                        continue
                    prepared = self._prepare(task, v)
                    wanted.extend((f, become or f.become, user) for f in prepared.facts if not f.volatile)
                self.candidates[task.seq] = wanted
            except Exception:  # not renderable yet (e.g. it reads a registered var): fetched lazily
                continue

    # -- the run -----------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.connection()
            if self.shared.needs_system_facts:
                try:
                    self._ensure_system_facts()
                except _TaskFailure as err:
                    self._record("gather system facts", "failed", msg=str(err))
                    self.failed = True
                    return
            self._prefetch_candidates()
            failed = self._nodes(self.play.tasks)
            if not failed:
                self._handlers()
        except HostUnreachable as err:
            self.unreachable = True
            self._record(self._current_name or "connect", "unreachable", msg=str(err))
        except TransportError as err:
            self.failed = True
            self._record(self._current_name or "connect", "failed", msg=f"transport error: {err}")
        finally:
            self.shared.reporter.host_done(self.host.name)

    _current_name: str | None = None

    def _nodes(self, nodes: Sequence[Node]) -> bool:
        """Run nodes in order; True as soon as one fails (unrescued)."""
        for node in nodes:
            failed = self._block(node) if isinstance(node, Block) else self._task(node)
            if failed:
                return True
        return False

    def _block(self, block: Block) -> bool:
        start = len(self.results)
        failed = self._nodes(block.block)
        if failed and block.rescue:
            self.results[start:] = [
                _replace(r, rescued=True) if r.status == "failed" and not r.ignored else r
                for r in self.results[start:]
            ]
            failed = self._nodes(block.rescue)
        if block.always:
            failed = self._nodes(block.always) or failed
        return failed

    def _handlers(self) -> None:
        if not self.notified:
            return
        for handler in self.play.handlers:
            topics = {handler.name, *handler.listen}
            by = next((self.notified[t] for t in topics if t in self.notified), None)
            if by is None:
                continue
            if self.options.check:
                self._depends(self._name(handler, self.variables(handler)), (by, True), True, handler)
                continue
            if self._task(handler, handler=True):
                return
        self.notified.clear()

    def _selected(self, task: Task) -> bool:
        return selected(task.tags, self.options.tags, self.options.skip_tags)

    def _name(self, task: Task, variables: Vars) -> str:
        if not templating.is_template(task.name):
            return task.name
        try:
            return str(templating.render_string(task.name, variables))
        except Exception:
            return task.name

    def _become(self, task: Task, variables: Vars) -> tuple[bool, str]:
        raw = task.become if task.become is not None else self.play.become
        become = self.host.become if raw is None else _truthy(templating.render(raw, variables))
        user = task.become_user or self.play.become_user or self.host.become_user
        return become, str(templating.render(user, variables))

    def _loop_vars(self, task: Task, variables: Vars) -> list[dict[str, Any]]:
        if task.loop is None:
            return [{}]
        items = templating.render(task.loop, variables)
        if isinstance(items, str):
            raise task.where.error("loop must be a list", field="loop")
        if isinstance(items, Mapping):
            raise task.where.error("loop must be a list (use dict2items for a mapping)", field="loop")
        if not isinstance(items, list):
            items = list(items)
        out = []
        for i, item in enumerate(items):
            lv: dict[str, Any] = {task.loop_var: item}
            if task.index_var:
                lv[task.index_var] = i
            out.append(lv)
        return out

    def _record(
        self, name: str, status: str, *, msg: str = "", changes: Sequence[ChangeView] = (),
        depends_on: str | None = None, ignored: bool = False, handler: bool = False,
        task: Task | None = None, items: Sequence[str] = (), blocked_by_change: bool = False,
        output: bool = False,
    ) -> TaskResult:
        where = task.where if task is not None else None
        result = TaskResult(
            host=self.host.name, play=self.play.name, task=name, status=status,  # type: ignore[arg-type]
            location=f"{where.file}:{where.line}" if where else "", changes=tuple(changes), msg=msg,
            depends_on=depends_on, ignored=ignored, handler=handler, items=tuple(items),
            blocked_by_change=blocked_by_change, output=output,
        )
        self.results.append(result)
        self.shared.reporter.task_done(result)
        return result

    def _task(self, task: Task, handler: bool = False) -> bool:
        """Run one task (all loop items); True when it failed and the host must stop."""
        if not handler and not self._selected(task):
            return False
        self.current_seq = task.seq
        base = self.variables(task)
        name = self._name(task, base)
        self._current_name = name
        self.shared.reporter.task_start(self.host.name, name)
        if self.options.check:
            pending = self._pending_input(task)
            if pending is not None:
                if task.register:
                    self.pending[task.register] = pending
                self._depends(name, pending, handler, task)
                return False
        try:
            items = self._items(task, base)
        except UserError as err:
            err.located(file=task.where.file, line=task.where.line, field=task.where.path)
            if err.hint is None:
                err.hint = f"task '{name}'"
            text = self.shared.user_error(err)
            self._record(name, "failed", msg=text, handler=handler, task=task)
            self.failed = True
            return True
        except _TaskFailure as err:
            items = [_Item("failed", {"failed": True, "changed": False, "msg": str(err)}, msg=str(err))]
        return self._finish(task, name, items, handler)

    def _depends(self, name: str, pending: tuple[str, bool], handler: bool, task: Task) -> None:
        blocker, would_change = pending
        why = "would change" if would_change else "not run in plan"
        self._record(
            name, "depends", depends_on=blocker, msg=f"depends on {blocker} ({why})",
            handler=handler, task=task, blocked_by_change=would_change,
        )  # fmt: skip

    def _pending_input(self, task: Task) -> tuple[str, bool] | None:
        if not self.pending:
            return None
        names: set[str] = set()
        for value in task.templates().values():
            names |= templating.referenced_names(value)
        for exprs in task.expressions().values():
            names |= templating.referenced_names(list(exprs), expression=True)
        for n in sorted(names):
            if n in self.pending:
                return self.pending[n]
        return None

    def _finish(self, task: Task, name: str, items: list[_Item], handler: bool) -> bool:
        if self.options.check and self.would_change and any(i.status == "failed" for i in items):
            # Planned against a host an earlier task would change first: not a failure yet.
            pending = (self.would_change[-1], True)
            if task.register:
                self.pending[task.register] = pending
            self._depends(name, pending, handler, task)
            return False
        no_log = _truthy(task.no_log)
        looped = task.loop is not None
        statuses = [i.status for i in items]
        if any(s == "failed" for s in statuses):
            status = "failed"
        elif looped and (not items or all(s == "skipped" for s in statuses)):
            status = "skipped"
        elif not looped and statuses == ["skipped"]:
            status = "skipped"
        elif any(s == "changed" for s in statuses):
            status = "changed"
        else:
            status = "ok"
        if looped:
            registered: dict[str, Any] = {
                "results": [i.result for i in items],
                "changed": status == "changed",
                "failed": status == "failed",
                "skipped": status == "skipped",
                "msg": "All items completed" if status != "failed" else "One or more items failed",
            }
        else:
            registered = items[0].result
        if task.register:
            self.registered[task.register] = registered
            if self.options.check and any(i.would_run for i in items):
                self.pending[task.register] = (name, status == "changed")
        ignored = False
        if status == "failed":
            ignored = _truthy(_safe_render(task.ignore_errors, self.variables(task)))
        changes = [
            ChangeView.of(c, hide=no_log, label=i.label if looped else None)
            for i in items
            for c in i.changes
            if i.status == "changed" or (i.status == "failed" and not self.options.check)
        ]
        msgs = [i.msg for i in items if i.msg]
        msg = "(output hidden by no_log)" if no_log and msgs else "; ".join(dict.fromkeys(msgs))
        item_lines = [f"{i.status}: {i.label}" for i in items] if looped else []
        output = task.action == "debug" and status == "ok" and not no_log
        self._record(
            name, status, msg=msg, changes=changes, ignored=ignored, handler=handler, task=task, items=item_lines,
            output=output,
        )  # fmt: skip
        if status == "changed" and self.options.check:
            self.would_change.append(name)
        if status == "changed":
            for n in task.notify:
                self.notified.setdefault(str(templating.render(n, self.variables(task))), name)
        if status == "failed" and not ignored:
            self.failed = True
            return True
        return False

    def _items(self, task: Task, base: Vars) -> list[_Item]:
        if self.shared.needs_system_facts and (not self.system_facts or self.system_facts_stale):
            self._ensure_system_facts()
        loop_vars = self._loop_vars(task, base)
        out = []
        for lv in loop_vars:
            v = base.child(lv) if lv else base
            label = None
            if task.loop is not None:
                raw_label = task.loop_label if task.loop_label is not None else f"{{{{ {task.loop_var} }}}}"
                label = _short(str(_safe_render(raw_label, v)))
            item = self._one(task, v)
            item.label = label
            if task.loop is not None:
                item.result = {**item.result, task.loop_var: to_plain(lv[task.loop_var])}
            out.append(item)
        return out

    def _one(self, task: Task, v: Vars) -> _Item:
        if task.when:
            try:
                ok = templating.conditions_hold(task.when, v)
            except UserError as err:
                raise err.located(field=f"{task.where.path}.when", line=task.key_lines.get("when", task.where.line)) from None
            if not ok:
                return _Item("skipped", {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"})
        if task.action in ENGINE_ACTIONS:
            return self._engine_action(task, v)
        retries = _number(task, "retries", v, int) if task.until else 0
        delay = _number(task, "delay", v, float)
        attempt = 0
        while True:
            attempt += 1
            item = self._attempt(task, v)
            if not task.until or self.options.check:
                return item
            check_vars = v.child({task.register: item.result} if task.register else {})
            if templating.conditions_hold(task.until, check_vars):
                item.result["attempts"] = attempt
                return item
            if attempt > retries:
                own = item.msg if item.status == "failed" else ""
                item.status = "failed"
                item.msg = f"'until' still false after {attempt} attempts" + (f": {own}" if own else "")
                item.result.update({"failed": True, "attempts": attempt, "msg": item.msg})
                return item
            time.sleep(delay)
            self.stale()

    def _prepare(self, task: Task, v: Vars) -> _Prepared:
        cls = self.shared.resolver(task.action)
        if cls is None:
            raise task.where.error(f"unknown module '{task.action}'", field=task.action)
        module = cls()
        args = self._render_args(task, v)
        try:
            args = module.prepare(args, _PrepareContext(self.shared.playbook.base_dir, v))
        except ModuleArgError as err:
            raise task.where.error(str(err), field=f"{task.action}.{err.field}" if err.field else task.action) from None
        except UserError as err:
            raise err.located(field=f"{task.where.path}.{task.action}", line=task.where.line) from None
        public = {k: val for k, val in args.items() if not str(k).startswith("_")}
        check(module.schema, public, file=task.where.file, root=_arg_root(task),
              field_prefix=[f"{task.where.path}.{task.action}"])  # fmt: skip
        err_line = task.where.line
        try:
            facts = module.facts(args)
        except ModuleArgError as err:
            raise task.where.error(str(err), field=f"{task.action}.{err.field}" if err.field else task.action, line=err_line) from None
        return _Prepared(module, args, facts)

    def _render_args(self, task: Task, v: Vars) -> dict[str, Any]:
        if isinstance(task.args, str):
            try:
                rendered = templating.render(task.args, v)
            except UserError as err:
                raise task.where.error(err.message, field=task.action) from None
            if not isinstance(rendered, Mapping):
                raise task.where.error("arguments must render to a mapping", field=task.action)
            return dict(rendered)
        out: dict[str, Any] = {}
        for key, value in task.args.items():
            try:
                r = templating.render(value, v)
            except UserError as err:
                name = task.action if key == "_raw_params" else f"{task.action}.{key}"
                raise task.where.error(err.message, field=name, line=task.arg_lines.get(str(key))) from None
            if isinstance(r, str) and r == templating.OMIT:
                continue
            out[key] = r
        return out

    def _attempt(self, task: Task, v: Vars) -> _Item:
        prepared = self._prepare(task, v)
        become, user = self._become(task, v)
        facts = self.facts_for(prepared.facts, become, user)
        module, args = prepared.module, prepared.args
        try:
            changes = module.plan(args, facts)
        except ModuleArgError as err:
            # Raised with the host's facts in hand: the host's state, not the playbook, is at odds.
            located = task.where.error(str(err), field=f"{task.action}.{err.field}" if err.field else task.action)
            raise _TaskFailure(str(located)) from None
        steps: list[StepResult] = []
        failed_msg = ""
        would_run = False
        if changes and self.options.check:
            would_run = any(c.steps for c in changes)
        elif changes:
            ctx = _StepContext(self, become, user)
            try:
                for change in changes:
                    for step in change.steps:
                        res = step.execute(ctx)
                        steps.append(res)
                        if not res.ok:
                            detail = (res.stderr or res.stdout).strip()
                            what = "a step" if _truthy(task.no_log) else step.describe()
                            failed_msg = f"{what} failed (rc={res.extra.get('rc', res.rc)})" + (f": {detail}" if detail else "")
                            break
                    if failed_msg:
                        break
            except Unreachable as err:
                raise HostUnreachable(str(err)) from None
            finally:
                self.stale()
        result: dict[str, Any] = {"changed": bool(changes), "failed": bool(failed_msg), "skipped": False}
        try:
            result.update(module.result(args, facts, steps))
        except Exception as err:
            failed_msg = failed_msg or f"module {task.action} result: {type(err).__name__}: {err}"
        result["msg"] = failed_msg or "; ".join(c.summary for c in changes)
        if changes and any(c.diff for c in changes) and not _truthy(task.no_log):
            result["diff"] = [
                {"label": c.diff.label, "before": c.diff.before, "after": c.diff.after}
                for c in changes if c.diff is not None and not c.diff.secret
            ]
        changed = bool(changes)
        failed = bool(failed_msg)
        own = v.child({task.register: result} if task.register else {})
        if task.changed_when is not None and not (self.options.check and would_run and _reads(task.changed_when, task.register)):
            changed = templating.conditions_hold(task.changed_when, own) if task.changed_when else changed
            result["changed"] = changed
        if task.failed_when is not None and not (self.options.check and would_run and _reads(task.failed_when, task.register)):
            failed = templating.conditions_hold(task.failed_when, own) if task.failed_when else False
            result["failed"] = failed
            if failed and not failed_msg:
                failed_msg = "failed_when condition is true"
                result["msg"] = failed_msg
        status = "failed" if failed else ("changed" if changed else "ok")
        msg = failed_msg if failed else result["msg"] if changed else ""
        return _Item(status, result, changes=changes, msg=msg, would_run=would_run)

    def _engine_action(self, task: Task, v: Vars) -> _Item:
        args = self._render_args(task, v)
        action = task.action
        if action == "debug":
            if "var" in args:
                name = str(args["var"])
                value = templating.render_string("{{ " + name + " }}", v)
                msg = f"{name} = {to_plain(value)!r}"
            else:
                msg = str(args.get("msg", "Hello world!"))
            return _Item("ok", {"changed": False, "failed": False, "msg": msg}, msg=msg)
        if action == "set_fact":
            values = {k: to_plain(val) for k, val in args.items() if k != "cacheable"}
            self.registered.update(values)
            return _Item("ok", {"changed": False, "failed": False, "ansible_facts": values})
        if action == "fail":
            msg = str(args.get("msg", "Failed as requested from task"))
            return _Item("failed", {"changed": False, "failed": True, "msg": msg}, msg=msg)
        if action == "assert":
            that = args.get("that", [])
            conditions = that if isinstance(that, list) else [that]
            for cond in conditions:
                if not templating.evaluate(cond, v):
                    msg = str(args.get("fail_msg") or args.get("msg") or f"Assertion failed: {cond}")
                    return _Item("failed", {"changed": False, "failed": True, "msg": msg, "assertion": cond}, msg=msg)
            msg = str(args.get("success_msg") or "All assertions passed")
            return _Item("ok", {"changed": False, "failed": False, "msg": msg})
        if action == "meta":
            what = str(args.get("_raw_params") or args.get("msg") or "").strip() or next(iter(args), "")
            if what == "flush_handlers" and not self.options.check:
                self._handlers()
            return _Item("ok", {"changed": False, "failed": False})
        raise task.where.error(f"unknown action '{action}'")


class _ParseFailure:
    def __init__(self, message: str) -> None:
        self.message = message


class _TaskFailure(Exception):
    """A task failed for a reason on the host (not the user's playbook)."""


def _reads(conditions: Sequence[Any], register: str | None) -> bool:
    if not register:
        return False
    return register in templating.referenced_names(list(conditions), expression=True)


def _safe_render(value: Any, v: Vars) -> Any:
    if isinstance(value, str) and templating.is_template(value):
        return templating.render(value, v)
    return value


def _arg_root(task: Task) -> LineDict:
    """The task's arguments with their lines, so a rendered value's schema error names its own line."""
    root = LineDict(task.args if isinstance(task.args, Mapping) else {})
    root.line = task.key_lines.get(task.action) or task.where.line
    root.key_lines.update(task.arg_lines)
    return root


def _number(task: Task, key: str, v: Vars, kind: Callable[[Any], Any]) -> Any:
    """``retries``/``delay`` after rendering, or a UserError naming the keyword's line."""
    value = _safe_render(getattr(task, key), v)
    try:
        return kind(value or 0)
    except (TypeError, ValueError):
        what = "an integer" if kind is int else "a number"
        raise task.where.error(f"must be {what}, got {value!r}", field=key, line=task.key_lines.get(key)) from None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _replace(r: TaskResult, **changes: Any) -> TaskResult:
    from dataclasses import replace

    return replace(r, **changes)


# -- static checks ----------------------------------------------------------------------


def check_names(play: Play, hosts: Sequence[Host], extra_vars: Mapping[str, Any]) -> None:
    """Before connecting: every variable a template reads must be defined somewhere.

    Known names: inventory vars of the play's hosts, play vars and vars files, extra
    vars, task vars, registered names and set_fact keys of the play, loop variables,
    facts (``ansible_*``) and the magic variables. Anything else is a typo.
    """
    known: set[str] = set(MAGIC_NAMES) | set(templating.ENV.globals) | set(play.vars) | set(play.vars_files) | set(extra_vars)
    for h in hosts:
        known |= set(h.vars)
    tasks = [*play.all_tasks(), *play.handlers]
    for t in tasks:
        known |= set(t.vars)
        known.add(t.loop_var)
        if t.index_var:
            known.add(t.index_var)
        if t.register:
            known.add(t.register)
        if t.action == "set_fact" and isinstance(t.args, Mapping):
            known |= {str(k) for k in t.args}
    for t in tasks:
        fields: list[tuple[str, Any, bool]] = [(k, v, False) for k, v in t.templates().items()]
        fields += [(k, list(v), True) for k, v in t.expressions().items()]
        # ``x | default(..)`` or ``when: x is defined`` anywhere in the task makes x optional.
        optional = known | {n for _, v, e in fields for n in templating.guarded_names(v, expression=e)}
        for key, value, expr in fields:
            if key == "args" and isinstance(value, Mapping):
                for ak, av in value.items():
                    shown = t.action if ak == "_raw_params" else f"{t.action}.{ak}"
                    _check_value(t, shown, t.arg_lines.get(str(ak)), av, False, optional)
                continue
            line = t.key_lines.get(t.action if key in ("args", "that") else key)
            _check_value(t, t.action if key == "args" else key, line, value, expr, optional)


def _check_value(t: Task, fieldname: str, line: int | None, value: Any, expr: bool, known: set[str]) -> None:
    for name in sorted(templating.referenced_names(value, expression=expr)):
        if name in known or name.startswith("ansible_"):
            continue
        raise t.where.error(f"undefined variable '{name}'", field=fieldname, line=line, hint=f"task '{t.name}'")


def _template_file_names(t: Task, base_dir: str | None) -> set[str]:
    """Names read by the Jinja2 file of a ``template`` task (its ``src``, controller side).

    A template file is the most common reader of facts (``{{ ansible_hostname }}``), yet
    it is only read when the task is prepared on a host; without this the play would
    not gather facts and the template would fail with an undefined fact. A ``src`` that
    is itself a template cannot be resolved here: it counts as reading ``ansible_facts``.
    """
    if base_dir is None or t.action != "template" or not isinstance(t.args, Mapping):
        return set()
    src = t.args.get("src")
    if not isinstance(src, str):
        return set()
    if templating.is_template(src):
        return {"ansible_facts"}
    p = Path(src)
    for c in [p] if p.is_absolute() else [Path(base_dir) / sub / p for sub in ("", "files", "templates")]:
        if c.is_file():
            try:
                return set(templating.referenced_names(c.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, UserError):
                return set()  # reported with file and field when the task is prepared
    return set()


def play_needs_system_facts(
    play: Play, hosts: Sequence[Host], extra_vars: Mapping[str, Any], base_dir: str | None = None
) -> bool:
    """Whether any task (or the file of a ``template`` task) reads an undefined ``ansible_*`` fact."""
    defined: set[str] = set(play.vars) | set(play.vars_files) | set(extra_vars)
    for h in hosts:
        defined |= set(h.vars)
    for t in [*play.all_tasks(), *play.handlers]:
        names: set[str] = _template_file_names(t, base_dir)
        for value in t.templates().values():
            names |= templating.referenced_names(value)
        for exprs in t.expressions().values():
            names |= templating.referenced_names(list(exprs), expression=True)
        names |= templating.referenced_names(dict(t.vars))
        for n in names:
            if n == "ansible_facts" or (n.startswith("ansible_") and n not in defined and n not in MAGIC_NAMES and n not in t.vars):
                return True
    for value in [*play.vars.values(), *play.vars_files.values()]:
        for n in templating.referenced_names(value):
            if n == "ansible_facts" or (n.startswith("ansible_") and n not in defined and n not in MAGIC_NAMES):
                return True
    return False


# -- the whole playbook -------------------------------------------------------------------


def select_play_hosts(
    playbook: Playbook, inventory: Inventory, options: Options, selector: HostSelector | None = None
) -> list[list[Host]]:
    """The hosts of every play (pattern, then ``--limit``); errors before any connection."""
    selector = selector or _default_selector
    return [selector(inventory, play.hosts, options.limit) for play in playbook.plays]


def pattern_warnings(playbook: Playbook, inventory: Inventory, options: Options) -> list[str]:
    """One line per term of a play's ``hosts`` or of ``--limit`` that names nothing.

    Not an error (Ansible only warns: an inventory may lack an optional group), but a
    typo in a group name would otherwise pass as "no hosts matched".
    """
    from kubeform.inventory.patterns import limit_terms, unmatched

    out: list[str] = []
    for play in playbook.plays:
        for term in unmatched(inventory, play.hosts):
            out.append(f"play '{play.name}': hosts pattern '{term}' matches no host or group")
    if options.limit is not None and options.limit.strip():
        for term in unmatched(inventory, limit_terms(options.limit)):
            out.append(f"--limit '{term}' matches no host or group")
    return list(dict.fromkeys(out))


def _warn_stderr(text: str) -> None:
    print(f"kubeform: warning: {text}", file=sys.stderr)


def run_playbook(
    playbook: Playbook,
    inventory: Inventory,
    options: Options,
    pool: ConnectionSource,
    reporter: Reporter | None = None,
    *,
    resolver: ModuleResolver | None = None,
    selector: HostSelector | None = None,
    system_fact: Fact | bool | None = True,
    warn: Callable[[str], None] | None = None,
) -> RunResult:
    """Run (or, with ``options.check``, plan) every play; never raises for host failures.

    ``system_fact`` True means "use kubeform.modules.facts.SYSTEM_FACTS when present".
    ``warn`` gets each warning line before the first play (default: stderr); they are
    also in ``RunResult.warnings``.
    UserErrors found before connecting (undefined names, bad host patterns) are raised.
    """
    if resolver is None:
        from kubeform.modules import lookup

        resolver = lookup
    reporter = reporter or NullReporter()
    fact: Fact | None = _default_system_fact() if system_fact is True else (system_fact or None)
    play_hosts = select_play_hosts(playbook, inventory, options, selector)
    if options.limit and options.limit.strip() and not any(play_hosts):
        # As ansible-playbook: a --limit that leaves nothing to do is a mistake, not a no-op.
        raise UserError(
            f"--limit '{options.limit}' matches no host of this playbook's plays", field="--limit"
        )
    # Names are checked against every host of the play's pattern, not only the --limit'ed
    # ones: a play left without hosts (or with fewer) must not make its variables "undefined".
    unlimited = play_hosts if not options.limit else [(selector or _default_selector)(inventory, p.hosts, None) for p in playbook.plays]
    for play, hosts in zip(playbook.plays, unlimited, strict=True):
        check_names(play, hosts, options.extra_vars)
    out = RunResult(check=options.check, warnings=pattern_warnings(playbook, inventory, options))
    for text in out.warnings:
        (warn or _warn_stderr)(text)
    dead: set[str] = set()
    for play, hosts in zip(playbook.plays, play_hosts, strict=True):
        hosts = [h for h in hosts if h.name not in dead]
        for h in hosts:
            if h.name not in out.hosts:
                out.hosts.append(h.name)
        names = [h.name for h in hosts]
        reporter.play_start(play, names)
        if not hosts:
            continue
        needs = play_needs_system_facts(play, hosts, options.extra_vars, playbook.base_dir)
        if needs and fact is None:
            raise UserError(
                "this play reads system facts (ansible_*), but the facts module is not installed",
                file=play.where.file, line=play.where.line,
            )
        shared = PlayShared(
            playbook=playbook, play=play, options=options, pool=pool, reporter=reporter,
            resolver=resolver, inventory=inventory, hosts=names,
            hostvars={n: dict(h.vars) for n, h in inventory.hosts.items()},
            system_fact=fact, needs_system_facts=needs,
        )  # fmt: skip
        runs = [HostRun(shared, h) for h in hosts]
        with ThreadPoolExecutor(max_workers=max(1, options.forks), thread_name_prefix="kubeform-host") as pool_ex:
            list(pool_ex.map(lambda r: r.run(), runs))
        for r in runs:
            out.results.extend(r.results)
            if r.failed or r.unreachable:
                dead.add(r.host.name)
        for e in shared.errors:
            if e not in out.errors:
                out.errors.append(e)
    return out
