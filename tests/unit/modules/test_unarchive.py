"""Data-driven cases of the unarchive module (tests/data/modules/unarchive/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("unarchive"))
def test_unarchive(case: Path) -> None:
    check_case(case)


def test_archive_files_reads_tar_and_zip() -> None:
    import hashlib
    import io
    import tarfile
    import zipfile

    from kubeform.modules.unarchive import archive_files

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("./d/a.txt")
        info.size = 2
        t.addfile(info, io.BytesIO(b"hi"))
    kind, files = archive_files(buf.getvalue())
    assert kind == "tar" and list(files) == ["d/a.txt"]
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("x/b.txt", "yo")
    assert archive_files(zbuf.getvalue()) == ("zip", {"x/b.txt": hashlib.sha256(b"yo").hexdigest()})
