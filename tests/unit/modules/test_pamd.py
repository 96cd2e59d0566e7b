"""Data-driven cases of the pamd module (tests/data/modules/pamd/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("pamd"))
def test_pamd(case: Path) -> None:
    check_case(case)


FILE = """auth\trequired\tpam_env.so
auth [success=1 default=ignore]  pam_unix.so nullok
auth\trequisite\tpam_deny.so
password\trequired\tpam_pwquality.so retry=3
"""


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        ({"type": "auth", "control": "[success=1  default=ignore]", "module_path": "pam_unix.so", "module_arguments": "nullok try_first_pass"},
         FILE.replace("auth [success=1 default=ignore]  pam_unix.so nullok", "auth\t[success=1 default=ignore]\tpam_unix.so\tnullok try_first_pass")),
        ({"type": "auth", "control": "requisite", "module_path": "pam_deny.so", "state": "before", "new_type": "auth",
          "new_control": "required", "new_module_path": "pam_faillock.so", "module_arguments": "preauth"},
         FILE.replace("auth\trequisite\tpam_deny.so", "auth\trequired\tpam_faillock.so\tpreauth\nauth\trequisite\tpam_deny.so")),
        ({"type": "password", "control": "required", "module_path": "pam_pwquality.so", "state": "args_present", "module_arguments": ["retry=5", "minlen=14"]},
         FILE.replace("pam_pwquality.so retry=3", "pam_pwquality.so\tretry=5 minlen=14")),
        ({"type": "password", "control": "required", "module_path": "pam_pwquality.so", "state": "args_present", "module_arguments": "retry=3"},
         FILE),
        ({"type": "password", "control": "required", "module_path": "pam_pwquality.so", "state": "args_absent", "module_arguments": "retry"},
         FILE.replace("pam_pwquality.so retry=3", "pam_pwquality.so")),
    ],
)
def test_edit(args: dict[str, object], expect: str) -> None:
    from kubeform.modules.pamd import edit

    assert edit(FILE, {"name": "x", **args}) == expect
    assert edit(expect, {"name": "x", **args}) == expect, "a second run changes nothing"
