"""template: render a Jinja2 file on the controller and put the result at ``dest``.

Rendering happens in ``prepare`` with the task's variables (``ctx.render``), so the plan
is the same pure content comparison as ``copy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import file_fact, plan_write
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, PrepareContext
from kubeform.modules.copy import FILE_ARGS, content_bytes


class Template(Module):
    """Ansible's template: ``src`` (Jinja2, controller side) rendered to ``dest``."""

    name: ClassVar[str] = "template"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {**FILE_ARGS, "src": {"type": "string", "minLength": 1}},
        "required": ["src", "dest"],
        "additionalProperties": False,
    }

    def prepare(self, args: Mapping[str, Any], ctx: PrepareContext) -> dict[str, Any]:
        """Read and render the template; the result is ``_content`` (UTF-8 bytes)."""
        out = dict(args)
        raw = ctx.read_local(str(args["src"]))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ModuleArgError(f"template {args['src']} is not UTF-8 text", field="src") from err
        out["_content"] = ctx.render(text).encode("utf-8")
        return out

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(str(args["dest"]))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if args.get("_content") is None:
            raise ModuleArgError("template was not rendered (prepare did not run)", field="src")
        dest = str(args["dest"])
        return plan_write(dest, facts[f"file:{dest}"], content_bytes(args), args)
