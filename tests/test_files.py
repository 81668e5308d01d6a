"""sync.files: the one atomic write (workbook, report, outbox, witness), on a real file system."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import files


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if files.TEMP_MARK in p.name)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077, 0o002])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, umask, mask):
    os.umask(mask)
    target = tmp_path / "bao-cao.docx"
    files.write_bytes(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize("mode", [0o640, 0o600, 0o664, 0o444])
def test_an_existing_file_keeps_its_mode(tmp_path, umask, mode):
    target = tmp_path / "wb.xlsx"
    target.write_bytes(b"old")
    target.chmod(mode)
    before = target.stat()
    files.write_bytes(target, b"new")
    after = target.stat()
    assert stat.S_IMODE(after.st_mode) == mode
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # replaced by a rename, not rewritten in place
    assert target.read_bytes() == b"new"


def test_the_temporary_file_sits_beside_the_target_under_our_name(tmp_path):
    target = tmp_path / "a.eml"
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        tmp.write_bytes(b"x")

    files.replace(target, write)
    tmp = seen[0]
    assert tmp.parent == tmp_path and files.is_temp_of(target, tmp)
    assert tmp.name.startswith(f".a.eml.cchc-{os.getpid()}-") and tmp.name.endswith(".tmp")
    assert ours(tmp_path) == []


class Boom(Exception):
    pass


@pytest.mark.parametrize("existing", [True, False])
def test_a_failure_inside_the_writer_leaves_the_old_file_and_no_temporary_file(tmp_path, existing):
    target = tmp_path / "wb.xlsx"
    if existing:
        target.write_bytes(b"old")

    def write(tmp: Path) -> None:
        tmp.write_bytes(b"half of the n")
        raise Boom

    with pytest.raises(Boom):
        files.replace(target, write)
    assert ours(tmp_path) == []
    if existing:
        assert target.read_bytes() == b"old"
    else:
        assert not target.exists()


def test_the_last_check_can_abandon_the_write(tmp_path):
    target = tmp_path / "wb.xlsx"
    target.write_bytes(b"old")
    checked: list[bytes] = []

    def last_check(tmp: Path) -> None:
        checked.append(tmp.read_bytes())  # the new content is whole when the check runs
        raise Boom

    with pytest.raises(Boom):
        files.replace(target, lambda tmp: tmp.write_bytes(b"new content"), last_check)
    assert checked == [b"new content"] and target.read_bytes() == b"old" and ours(tmp_path) == []


def test_no_partial_file_is_ever_visible_at_the_target(tmp_path):
    """While the writer is halfway, a reader of the target sees the whole old file (or none for a new one)."""
    target = tmp_path / "da-gui.json"
    target.write_bytes(b'{"sent": {}}')
    seen_while_writing: list[bytes] = []

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(b'{"sent": {"lanhdao@example.invalid"')
            fh.flush()
            seen_while_writing.append(target.read_bytes())
            fh.write(b': {}}}')
        seen_while_writing.append(target.read_bytes())

    files.replace(target, write)
    assert seen_while_writing == [b'{"sent": {}}', b'{"sent": {}}']
    assert target.read_bytes() == b'{"sent": {"lanhdao@example.invalid": {}}}'

    new = tmp_path / "moi.json"
    exists_while_writing: list[bool] = []
    files.replace(new, lambda tmp: exists_while_writing.append(new.exists()))
    assert exists_while_writing == [False] and new.read_bytes() == b""


def test_write_text_creates_the_folder_and_encodes_utf8(tmp_path):
    target = tmp_path / "reports" / "out" / "so-lieu.json"
    files.write_text(target, "Tình trạng: Hoàn thành")
    assert target.read_text(encoding="utf-8") == "Tình trạng: Hoàn thành"


def test_leftovers_of_a_killed_run_are_recognised_and_only_they_are_removed(tmp_path):
    target = tmp_path / "wb.xlsx"
    leftover = tmp_path / f"{files.temp_prefix(target)}123-abcdef01{files.TEMP_SUFFIX}"
    recent = tmp_path / f"{files.temp_prefix(target)}124-abcdef02{files.TEMP_SUFFIX}"
    another = files.temp_prefix(tmp_path / "x.xlsx")  # another file's temporary file is not this one's
    others = [tmp_path / ".wb.xlsx.abc.tmp", tmp_path / "ghi-chu.tmp", tmp_path / f"{another}1-0.tmp"]
    for p in (leftover, recent, *others):
        p.write_bytes(b"")
    os.utime(leftover, (1_000_000, 1_000_000))
    removed = files.remove_leftovers(target, older_than=2_000_000)
    assert removed == [leftover] and not leftover.exists()
    assert recent.exists() and all(p.exists() for p in others)


def test_a_killed_builds_leftovers_beside_the_report_are_removed_by_the_next(project):
    """The report, its figures and the witness of its sends are written by sync.files, whose temporary files
    are named so the next build recognises a killed one's and removes them (an hour old: none is being written)."""
    import json

    assert project.cli("init")[0] == 0
    code, out, err = project.cli("report", "--period", "2024H1", "--date", "2024-06-17", "--json")
    assert code == 0, err
    report = project.root / json.loads(out)["path"]
    folder = report.parent
    old = [folder / f"{files.temp_prefix(report)}999-0badc0de{files.TEMP_SUFFIX}",
           folder / f"{files.temp_prefix(report.with_name(report.stem + '.so-lieu.json'))}999-1{files.TEMP_SUFFIX}"]
    fresh = folder / f"{files.temp_prefix(report)}998-0000beef{files.TEMP_SUFFIX}"  # another build, writing now
    foreign = folder / f".{report.name}.tmp"  # not named by us: never touched
    for p in (*old, fresh, foreign):
        p.write_bytes(b"PK\x03\x04 half a document")
    for p in old:
        os.utime(p, (p.stat().st_atime, p.stat().st_mtime - files.LEFTOVER_AGE_S - 60))
    code, _, err = project.cli("report", "--period", "2024H1", "--date", "2024-06-17", "--force")
    assert code == 0, err
    assert not any(p.exists() for p in old) and fresh.exists() and foreign.exists()


def test_a_pipe_or_a_folder_at_the_target_is_refused_never_replaced(tmp_path):
    pipe = tmp_path / "xuat.csv"
    os.mkfifo(pipe)
    with pytest.raises(FileExistsError):
        files.write_text(pipe, "x")
    assert stat.S_ISFIFO(pipe.lstat().st_mode) and not [p for p in tmp_path.iterdir() if p != pipe]
    folder = tmp_path / "thu-muc.csv"
    folder.mkdir()
    with pytest.raises(IsADirectoryError):
        files.write_text(folder, "x")
    assert folder.is_dir()


def test_a_link_is_followed_and_kept(tmp_path):
    target = tmp_path / "chung" / "bang.csv"
    target.parent.mkdir()
    target.write_text("cũ", encoding="utf-8")
    link = tmp_path / "lien-ket.csv"
    link.symlink_to(target)
    files.write_text(link, "mới")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "mới"
