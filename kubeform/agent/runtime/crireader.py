"""Reading container logs back: CRI lines to text, --tail, which attempt's file to read.

Why apart from crilog.py (the format, used by the writers): these are the reader's
decisions for ``kubeform logs`` (podcli.py on the host), pure and tested with data files
(tests/data/agent/runtime/crireader.yml). Files: ``<root>/<ns>_<pod>_<uid>/<container>/
<attempt>.log``; a rotated file keeps its name plus a stamp suffix, so ``<n>.log`` is always
an attempt's current file.
"""

import os
import re
from typing import List, Optional, Tuple

from .crilog import parse_line

_LOG_NAME = re.compile(r"^(\d+)\.log$")


def texts(lines: List[str]) -> List[str]:
    """The container's output lines (P parts joined to their F), as ``kubectl logs`` prints
    them; lines that are not CRI records (a torn write) are skipped."""
    out = []  # type: List[str]
    pending = ""
    for raw in lines:
        _ts, stream, tag, content = parse_line(raw)
        if stream not in ("stdout", "stderr") or tag not in ("F", "P"):
            continue
        if tag == "P":
            pending += content
            continue
        out.append(pending + content)
        pending = ""
    if pending:
        out.append(pending)
    return out


def tail(items: List[str], n: Optional[int]) -> List[str]:
    """The last n items (all when n is None or negative, as kubectl's --tail=-1)."""
    if n is None or n < 0:
        return list(items)
    return items[max(len(items) - n, 0) :] if n else []


def attempts(names: List[str]) -> List[int]:
    """The attempt numbers among a container log directory's file names, sorted."""
    return sorted(int(m.group(1)) for m in (_LOG_NAME.match(n) for n in names) if m)


def choose_attempt(names: List[str], previous: bool) -> Tuple[Optional[int], str]:
    """The attempt to read: the newest, or with --previous the one before it.

    (attempt, "") or (None, why): "no logs" when the directory holds none,
    "no previous" when --previous finds only one attempt.
    """
    found = attempts(names)
    if not found:
        return None, "no logs"
    if previous:
        if len(found) < 2:
            return None, "no previous"
        return found[-2], ""
    return found[-1], ""


def log_dir(root: str, namespace: str, pod: str, uid: str, container: str) -> str:
    """Where a container's log files live (the kubelet's layout)."""
    return os.path.join(root, "%s_%s_%s" % (namespace, pod, uid), container)
