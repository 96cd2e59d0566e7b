"""One host's run of one play, on a worker thread: tasks in order, blocks with rescue and
always, loops, retries, handlers, and what to record for each.

The driver: it asks the pure parts what to do (``task_inputs`` renders and prepares,
``outcomes`` judges results, ``plan_dependencies`` decides what check mode cannot plan,
``engine_actions`` runs debug/set_fact/...) and does the I/O through ``fact_cache`` and
``host_connection``. A host run:

1. gathers system facts (``ansible_*``) first, only if some task reads one;
2. pre-renders every task it can and notes the facts those tasks will need;
3. for each task: renders its arguments, lets the module ``prepare`` them, asks for the
   task's facts (fetching every still-missing fact of the remaining tasks in the same
   round trip), plans, and in apply mode executes the steps of each change; after a
   change the cached facts are stale;
4. runs the handlers notified on it, in handler order.

A failing host stops its own remaining tasks; other hosts go on (Ansible's default).
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from kubeform.engine import engine_actions, outcomes, templating
from kubeform.engine import task_inputs as inputs
from kubeform.engine.fact_cache import FactCache, Wanted, system_fact_layer
from kubeform.engine.host_connection import (
    HostConnection,
    HostStepContext,
    HostUnreachable,
    execute_changes,
)
from kubeform.engine.magic_vars import magic_vars
from kubeform.engine.outcomes import Outcome, TaskFailure, truthy
from kubeform.engine.plan_dependencies import Blocker, PlanDependencies, depends_message
from kubeform.engine.playbook import ENGINE_ACTIONS, Block, Node, Task
from kubeform.engine.results import ChangeView, TaskResult
from kubeform.engine.run_context import PlayShared
from kubeform.engine.tags import selected
from kubeform.engine.variables import Vars, to_plain
from kubeform.errors import UserError
from kubeform.inventory.model import Host
from kubeform.modules.base import ModuleArgError, StepResult
from kubeform.transport.base import TransportError


class HostRun:
    """One host's run of one play (executed on a worker thread)."""

    def __init__(self, shared: PlayShared, host: Host) -> None:
        self.shared = shared
        self.host = host
        self.play = shared.play
        self.options = shared.options
        self.connection = HostConnection(shared.pool, host, self.forget_system_facts)
        self.facts = FactCache(self.connection.run_script)
        self.results: list[TaskResult] = []
        # Registered values, set_facts and system facts outlive the play (later plays see them).
        self.registered: dict[str, Any] = shared.registered.setdefault(host.name, {})
        self.system_facts: dict[str, Any] = shared.system_facts.setdefault(host.name, {})
        self.system_facts_stale = False  # set on reconnect (reboot): gather again
        self.notified: dict[str, str] = {}  # handler name/topic -> notifying task
        self.plan = shared.plans.setdefault(host.name, PlanDependencies())  # check mode only; outlives the play
        self.current_seq = 0
        self.current_name: str | None = None
        self.failed = False
        self.unreachable = False
        magic = magic_vars(
            host, shared.inventory, shared.hosts, shared.hostvars, self.options.check, shared.playbook.base_dir
        )
        # Ansible's precedence, lowest first; a task adds its role's defaults (below the
        # inventory) and its vars (above the play's), then registered values and set_facts.
        self.low_layers: list[Mapping[str, Any]] = [magic, self.play.role_defaults]
        # Ansible's order: group_vars/all beside the playbook, the inventory's variables,
        # the playbook's group_vars of other groups, the host's own inventory variables,
        # the playbook's host_vars (the inventory's group_vars/all is below the playbook's
        # only in Ansible: kubeform's inventory keeps its groups merged).
        every, groups, own = shared.playbook_layers.get(host.name, ({}, {}, {}))
        self.base_layers: list[Mapping[str, Any]] = [
            every, host.vars, groups, host.own_vars, own, self.system_facts, self.play.vars,
            self.play.vars_files, self.play.role_vars,
        ]  # fmt: skip
        self.block_loops: list[Mapping[str, Any]] = []  # items of enclosing looped includes
        self.delegates: dict[str, tuple[HostConnection, FactCache, Host]] = {}  # delegate_to: host -> its connection
        self.homes: dict[tuple[int, bool, str, str], str] = {}  # (connection, become, user, name) -> home

    def variables(self, task: Task | Block | None = None, loop: Mapping[str, Any] | None = None) -> Vars:
        layers = [*self.low_layers]
        if task is not None and task.defaults:
            layers.append(task.defaults)
        layers.extend(self.base_layers)
        if task is not None:
            layers.append(task.vars)
        layers.append(self.registered)
        layers.extend(self.block_loops)
        if loop:
            layers.append(loop)
        layers.append(self.options.extra_vars)
        return Vars(*layers)

    # -- system facts ---------------------------------------------------------------

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
        value = self.facts.fetch_once(fact)
        self.system_facts_stale = False
        if isinstance(value, Mapping):
            # Emptied in place: the dict is one of the variable layers.
            self.system_facts.clear()
            self.system_facts.update(system_fact_layer(value))
            own = self.registered.get("ansible_facts")
            if isinstance(own, Mapping):  # module facts (package_facts) stay on top of the new ones
                self.registered["ansible_facts"] = {**self.system_facts["ansible_facts"], **{k: v for k, v in own.items() if k not in value and f"ansible_{k}" not in value}}
            with self.shared.lock:
                self.shared.hostvars.setdefault(self.host.name, {}).update(self.system_facts)

    def _note_candidates(self) -> None:
        """Pre-render every task that can be rendered now and note the facts it will need."""
        for task in self.play.all_tasks():
            if task.action in ENGINE_ACTIONS or not self._selected(task) or task.delegate_to is not None:
                continue  # a delegated task's facts are another host's: fetched when it runs
            try:
                base = self.variables(task)
                become, user = inputs.become_of(task, self.play, self.host, base)
                wanted: list[Wanted] = []
                for lv in inputs.loop_vars(task, base, self.shared.playbook.base_dir):
                    v = base.child(lv) if lv else base
                    if task.when and not templating.conditions_hold(task.when, v):
                        continue
                    prepared = inputs.prepare(task, v, self.shared.resolver, self.shared.playbook.base_dir,
                                              self._home_of(self.connection, become, user))  # fmt: skip
                    wanted.extend((f, become or f.become, user) for f in prepared.facts if not f.volatile)
                self.facts.candidates[task.seq] = wanted
            except Exception:  # not renderable yet (e.g. it reads a registered var): fetched lazily
                continue

    # -- the run -----------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.connection.get()
            if self.shared.needs_system_facts:
                try:
                    self._ensure_system_facts()
                except TaskFailure as err:
                    self._record("gather system facts", "failed", msg=str(err))
                    self.failed = True
                    return
            self._note_candidates()
            start = 0
            for end in [*self.play.flush_points, len(self.play.tasks)]:
                # Handlers run after pre_tasks, after roles + tasks, and at the end (Ansible's points).
                if self._nodes(self.play.tasks[start:end]) or self._handlers():
                    break
                start = end
        except HostUnreachable as err:
            self.unreachable = True
            self._record(self.current_name or "connect", "unreachable", msg=str(err))
        except TransportError as err:
            self.failed = True
            self._record(self.current_name or "connect", "failed", msg=f"transport error: {err}")
        finally:
            self.shared.reporter.host_done(self.host.name)

    def _nodes(self, nodes: Sequence[Node]) -> bool:
        """Run nodes in order; True as soon as one fails (unrescued)."""
        for node in nodes:
            failed = self._block(node) if isinstance(node, Block) else self._task(node)
            if failed:
                return True
        return False

    def _block(self, block: Block) -> bool:
        if block.loop is None:
            return self._block_once(block)
        try:
            items = inputs.loop_vars(block, self.variables(block), self.shared.playbook.base_dir)
        except UserError as err:
            if block.when and not self._block_when_holds(block):
                self._record(block.name, "skipped")  # as Ansible: a false condition hides the loop's error
                return False
            err.located(file=block.where.file, line=block.where.line, field=block.where.path)
            self._record(block.name, "failed", msg=self.shared.user_error(err))
            self.failed = True
            return True
        for lv in items:
            self.block_loops.append(lv)
            try:
                if self._block_once(block):
                    return True
            finally:
                self.block_loops.pop()
        return False

    def _block_when_holds(self, block: Block) -> bool:
        try:
            return templating.conditions_hold(block.when, self.variables(block))
        except UserError:
            return True  # let the loop's own error speak

    def _block_once(self, block: Block) -> bool:
        if block.choice is not None:
            return self._chosen_include(block)
        start = len(self.results)
        failed = self._nodes(block.block)
        if failed and block.rescue:
            self.results[start:] = [
                replace(r, rescued=True) if r.status == "failed" and not r.ignored else r
                for r in self.results[start:]
            ]
            failed = self._nodes(block.rescue)
        if block.always:
            failed = self._nodes(block.always) or failed
        return failed

    def _chosen_include(self, block: Block) -> bool:
        """A templated include_tasks: run the loaded file its rendered name picks."""
        try:
            name = str(templating.render(block.choice, self.variables(block)))
        except UserError as err:
            err.located(file=block.where.file, line=block.where.line, field=block.where.path)
            self._record(block.name, "failed", msg=self.shared.user_error(err))
            self.failed = True
            return True
        here = os.path.dirname(block.where.file)
        wanted = {os.path.realpath(os.path.join(here, name)), os.path.realpath(name)}
        for path, nodes in block.choices:
            if path in wanted or (not os.path.isabs(name) and path.endswith(os.sep + name)):
                if isinstance(nodes, str):
                    self._record(block.name, "failed", msg=nodes)
                    self.failed = True
                    return True
                return self._nodes(nodes)
        self._record(block.name, "failed", msg=f"{block.where.file}:{block.where.line}: include_tasks: no such file: {name}")
        self.failed = True
        return True

    def _handlers(self) -> bool:
        """Run the notified handlers in handler order; True when one failed (the host stops)."""
        if not self.notified:
            return False
        for handler in self.play.handlers:
            topics = {handler.name, *handler.listen}
            by = next((self.notified[t] for t in topics if t in self.notified), None)
            if by is None:
                continue
            if self.options.check:
                self._depends(inputs.task_name(handler, self.variables(handler)), (by, True), True, handler)
                continue
            if self._task(handler, handler=True):
                return True
        self.notified.clear()
        return False

    def _selected(self, task: Task) -> bool:
        return selected(task.tags, self.options.tags, self.options.skip_tags)

    def _record(
        self, name: str, status: str, *, msg: str = "", changes: Sequence[ChangeView] = (),
        depends_on: str | None = None, ignored: bool = False, handler: bool = False,
        task: Task | None = None, items: Sequence[str] = (), blocked_by_change: bool = False,
        output: bool = False,
    ) -> TaskResult:  # fmt: skip
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

    def _depends(self, name: str, blocker: Blocker, handler: bool, task: Task) -> None:
        self._record(
            name, "depends", depends_on=blocker[0], msg=depends_message(blocker),
            handler=handler, task=task, blocked_by_change=blocker[1],
        )  # fmt: skip

    def _task(self, task: Task, handler: bool = False) -> bool:
        """Run one task (all loop items); True when it failed and the host must stop."""
        if not handler and not self._selected(task):
            return False
        self.current_seq = task.seq
        base = self.variables(task)
        name = inputs.task_name(task, base)
        self.current_name = name
        self.shared.reporter.task_start(self.host.name, name)
        if truthy(inputs.safe_render(task.run_once, base)) and self.shared.hosts and self.host.name != self.shared.hosts[0]:
            self._record(name, "skipped", msg=f"run_once: runs on {self.shared.hosts[0]}", handler=handler, task=task)
            return False
        if self.options.check:
            blocker = self.plan.blocker_of(task, self.shared.playbook.base_dir)
            if blocker is not None:
                self.plan.mark_task_unknown(task, blocker)
                self._depends(name, blocker, handler, task)
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
        except TaskFailure as err:
            items = [outcomes.failed(str(err))]
        return self._finish(task, name, items, handler)

    def _finish(self, task: Task, name: str, items: list[Outcome], handler: bool) -> bool:
        check = self.options.check
        if check and any(i.status == "failed" for i in items) and not self.plan.judges_only_known_values(task):
            blocker = self.plan.failure_blocker()
            if blocker is not None:
                # Planned against a host an earlier task would change first: not a failure yet.
                self.plan.mark_task_unknown(task, blocker)
                self._depends(name, blocker, handler, task)
                return False
        no_log = truthy(task.no_log)
        looped = task.loop is not None
        status = outcomes.task_status(items, looped)
        if task.register:
            self.registered[task.register] = outcomes.registered_value(items, status, looped)
        ignored = status == "failed" and truthy(inputs.safe_render(task.ignore_errors, self.variables(task)))
        self._record(
            name, status, msg=outcomes.task_message(items, no_log),
            changes=outcomes.shown_changes(items, looped, no_log, check), ignored=ignored, handler=handler,
            task=task, items=outcomes.item_lines(items, looped), output=task.action == "debug" and status == "ok" and not no_log,
        )  # fmt: skip
        if check:
            self.plan.planned(name, task.register, status, any(i.would_run for i in items))
        if status == "changed":
            for n in task.notify:
                self.notified.setdefault(str(templating.render(n, self.variables(task))), name)
        if status == "failed" and not ignored:
            self.failed = True
            return True
        return False

    def _items(self, task: Task, base: Vars) -> list[Outcome]:
        if self.shared.needs_system_facts and (not self.system_facts or self.system_facts_stale):
            self._ensure_system_facts()
        try:
            loop = inputs.loop_vars(task, base, self.shared.playbook.base_dir)
        except UserError:
            # As Ansible: a loop that cannot be rendered is only an error if the task's
            # ``when`` (judged without the loop) holds, e.g. ``when: xs is defined``.
            if task.when and not self._holds_without_loop(task, base):
                return [outcomes.skipped()]
            raise
        out = []
        for lv in loop:
            v = base.child(lv) if lv else base
            label = inputs.item_label(task, v) if task.loop is not None else None
            item = self._one(task, v)
            item.label = label
            if task.loop is not None:
                item.result = {**item.result, task.loop_var: to_plain(lv[task.loop_var])}
            out.append(item)
        return out

    def _holds_without_loop(self, task: Task, v: Vars) -> bool:
        try:
            return templating.conditions_hold(task.when, v)
        except UserError:
            return True  # the condition needs the loop: the loop's own error is the one to show

    def _one(self, task: Task, v: Vars) -> Outcome:
        if task.when:
            try:
                ok = templating.conditions_hold(task.when, v)
            except UserError as err:
                raise err.located(field=f"{task.where.path}.when", line=task.key_lines.get("when", task.where.line)) from None
            if not ok:
                return outcomes.skipped()
        if task.action in ENGINE_ACTIONS:
            return self._engine_action(task, v)
        retries = inputs.number(task, "retries", v, int) if task.until else 0
        delay = inputs.number(task, "delay", v, float)
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
                return outcomes.until_exhausted(item, attempt)
            time.sleep(delay)
            self.facts.stale()

    def _delegate(self, task: Task, v: Vars) -> tuple[HostConnection, FactCache, Host]:
        """The connection, fact cache and host a task runs on: its own, or its ``delegate_to``'s."""
        own = (self.connection, self.facts, self.host)
        if task.delegate_to is None:
            return own
        name = str(inputs.safe_render(task.delegate_to, v) or "").strip()
        if not name or name == self.host.name:
            return own
        if name not in self.delegates:
            target = self.shared.inventory.hosts.get(name)
            if target is None:
                if name not in ("localhost", "127.0.0.1"):
                    raise task.where.error(f"delegate_to: no host '{name}' in the inventory", field="delegate_to", line=task.key_lines.get("delegate_to"))
                target = Host(name=name, vars={"ansible_connection": "local"}, groups=["ungrouped"])  # Ansible's implicit localhost
            conn = HostConnection(self.shared.pool, target, lambda: None)
            self.delegates[name] = (conn, FactCache(conn.run_script), target)
        return self.delegates[name]

    def _home_of(self, connection: HostConnection, become: bool, user: str) -> Callable[[str], str]:
        """The host's home directory of a user (``""``: whoever the task runs as), asked once."""

        def home(name: str) -> str:
            key = (id(connection), become, user, name)
            if key not in self.homes:
                who = shlex.quote(name) if name else '"$(id -un)"'
                res = connection.run_script(f"getent passwd {who} | cut -d: -f6", become, user)
                self.homes[key] = res.stdout.strip() if res.rc == 0 else ""
            return self.homes[key]

        return home

    def _attempt(self, task: Task, v: Vars) -> Outcome:
        connection, fact_cache, target = self._delegate(task, v)
        become, user = inputs.become_of(task, self.play, target, v)
        prepared = inputs.prepare(task, v, self.shared.resolver, self.shared.playbook.base_dir, self._home_of(connection, become, user))
        facts = fact_cache.facts_for(prepared.facts, become, user, self.current_seq)
        module, args = prepared.module, prepared.args
        try:
            changes = module.plan(args, facts)
        except ModuleArgError as err:
            # Raised with the host's facts in hand: the host's state, not the playbook, is at odds.
            located = task.where.error(str(err), field=f"{task.action}.{err.field}" if err.field else task.action)
            raise TaskFailure(str(located)) from None
        no_log = truthy(task.no_log)
        check = self._check(task, v)
        steps: list[StepResult] = []
        failed_msg = ""
        would_run = False
        if changes and check:
            would_run = any(c.steps for c in changes)
        elif changes:
            try:
                ctx = HostStepContext(connection, become, user, inputs.env_prefix(prepared.env))
                steps, failed_msg = execute_changes(changes, ctx, no_log)
            finally:
                fact_cache.stale()
        module_result: Mapping[str, Any] | Exception
        try:
            module_result = module.result(args, facts, steps)
        except Exception as err:
            module_result = err
        if isinstance(module_result, Mapping) and isinstance(module_result.get("ansible_facts"), Mapping) and not failed_msg:
            self._set_module_facts(module_result["ansible_facts"])
        return outcomes.module_outcome(
            changes=changes, module_result=module_result, failed_msg=failed_msg, would_run=would_run,
            action=task.action, register=task.register, changed_when=task.changed_when,
            failed_when=task.failed_when, no_log=no_log, check=check, v=v,
        )  # fmt: skip

    def _set_module_facts(self, values: Mapping[str, Any]) -> None:
        """Facts a module returns (package_facts' ``packages``): set as Ansible injects
        them, top-level and under ``ansible_facts``; they outlive the play, as set_fact's."""
        plain = {str(k): to_plain(val) for k, val in values.items()}
        self.registered.update(plain)
        own = self.registered.get("ansible_facts")
        merged = dict(own) if isinstance(own, Mapping) else dict(self.system_facts.get("ansible_facts") or {})
        merged.update({k.removeprefix("ansible_"): val for k, val in plain.items()})  # setup's are prefixed
        self.registered["ansible_facts"] = merged

    def _check(self, task: Task, v: Vars) -> bool:
        """Whether this task only plans: the run's mode, unless the task's ``check_mode`` says."""
        if task.check_mode is None:
            return self.options.check
        return truthy(inputs.safe_render(task.check_mode, v))

    def _engine_action(self, task: Task, v: Vars) -> Outcome:
        action = engine_actions.ACTIONS.get(task.action)
        if action is None:
            raise task.where.error(f"unknown action '{task.action}'")
        done = action(inputs.render_args(task, v), v, [*task.search_dirs, self.shared.playbook.base_dir])
        self.registered.update(done.set_facts)
        if done.add_group is not None:
            group, parents = done.add_group
            with self.shared.lock:  # joined into the inventory when the play ends (runner)
                members, above = self.shared.new_groups.setdefault(group, (set(), set()))
                members.add(self.host.name)
                above.update(parents)
        if done.flush_handlers and not self.options.check:
            self._handlers()
        return done.outcome
