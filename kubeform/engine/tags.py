"""Which tasks ``--tags`` / ``--skip-tags`` select, with Ansible's special tags.

``always`` runs unless skipped by name; ``never`` runs only when asked for by one of its
tags; ``tagged`` / ``untagged`` / ``all`` select by the presence of tags.
"""

from __future__ import annotations

from collections.abc import Collection


def _matches(task_tags: Collection[str], wanted: Collection[str]) -> bool:
    if "all" in wanted and "never" not in task_tags:
        return True
    if "tagged" in wanted and task_tags:
        return True
    if "untagged" in wanted and not task_tags:
        return True
    return bool(set(task_tags) & set(wanted))


def selected(task_tags: Collection[str], tags: Collection[str] = (), skip_tags: Collection[str] = ()) -> bool:
    """Whether a task with ``task_tags`` runs under ``--tags`` and ``--skip-tags``."""
    if skip_tags and _matches(task_tags, skip_tags):
        return False
    if "always" in task_tags:
        return True
    if tags:
        return _matches(task_tags, tags)
    return "never" not in task_tags
