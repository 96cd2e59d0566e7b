"""The closing recap per host: a rich table on a terminal, Ansible's plain lines otherwise.

The counts come from results.recap (pure); this module only chooses the form.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from kubeform.engine.render import plain, recap_lines
from kubeform.engine.results import RECAP_KEYS

_COLUMN_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "unreachable": "red",
    "failed": "red",
    "skipped": "cyan",
    "rescued": "magenta",
    "ignored": "dim",
}


def recap_table(counts: dict[str, dict[str, int]]) -> Table:
    """The recap as a rich table (zero counts dimmed, so problems stand out)."""
    table = Table(title="Recap", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("host", style="bold")
    for key in RECAP_KEYS:
        table.add_column(key, justify="right")
    for host, c in counts.items():
        cells = []
        for key in RECAP_KEYS:
            value = c.get(key, 0)
            style = _COLUMN_STYLE[key] if value else "dim"
            cells.append(f"[{style}]{value}[/{style}]")
        table.add_row(host, *cells)
    return table


def print_recap(counts: dict[str, dict[str, int]], console: Console, *, rich_output: bool) -> None:
    """Print the recap in the form that suits the output."""
    if rich_output:
        console.print(recap_table(counts))
    else:
        console.print(plain(recap_lines(counts)), markup=False, highlight=False, soft_wrap=True)
