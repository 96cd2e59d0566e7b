"""run_context: options defaults, the null reporter, user errors shared once per play."""

from __future__ import annotations

from pathlib import Path

from kubeform.engine.run_context import NullReporter, Options, Reporter
from kubeform.errors import UserError
from tests.unit.engine.test_host_run import shared


def test_options_default_to_apply_with_ten_forks() -> None:
    o = Options()
    assert (o.check, o.forks, o.limit, dict(o.extra_vars)) == (False, 10, None, {})


def test_null_reporter_is_a_reporter() -> None:
    r: Reporter = NullReporter()
    r.host_done("h1")


def test_user_errors_recorded_once(tmp_path: Path) -> None:
    s = shared(tmp_path, [])
    err = UserError("bad", file="pb.yml", line=3)
    assert s.user_error(err) == s.user_error(err)
    assert s.errors == [str(err)]
