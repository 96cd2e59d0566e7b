"""Every lab the test suite makes has its own subnet and name.

Labs of one run can be up at the same time (session and module fixtures overlap); two on
one subnet make the second `lab up` refuse, as it once did for kfgrow and kfpods.
"""

from __future__ import annotations

import re
from pathlib import Path

LAB_TESTS = Path(__file__).resolve().parents[2] / "lab"
PAIR = re.compile(r'\(\s*"(kf[\w-]+)",\s*"(192\.168\.\d+\.0/\d+)"\s*\)')


def test_each_test_lab_has_its_own_subnet_and_name() -> None:
    pairs = [m.groups() for f in sorted(LAB_TESTS.glob("*.py")) for m in PAIR.finditer(f.read_text())]
    conftest = (LAB_TESTS / "conftest.py").read_text()
    single = re.search(r'LAB_NAME = "(\w+)"', conftest), re.search(r'LAB_SUBNET = "([\d./]+)"', conftest)
    assert single[0] and single[1]
    pairs.append((single[0].group(1), single[1].group(1)))
    assert len(pairs) >= 6, pairs
    names = [n for n, _ in pairs]
    subnets = [s for _, s in pairs]
    assert len(set(names)) == len(names), names
    assert len(set(subnets)) == len(subnets), sorted(pairs, key=lambda p: p[1])
    assert "192.168.56.0/24" not in subnets  # the default lab a user starts by hand
