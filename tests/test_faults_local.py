"""Faults around the local .xlsx workbook, with real files and real processes.

Each case asserts the exit code, that the message names what to fix (the path and the config key), and
that no cell a unit typed changed. The races are made certain with pipes, never with sleeps: our pass
stops when its temporary file is whole on disk, a second process (a "unit" with openpyxl) saves the
workbook and says so, and only then does our pass go on to its last check and the replace.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sync import files
from sync.backends import xlsx_file
from sync.backends.local import LocalBackend
from sync.core.config import PROJECT_DIR
from sync.core.errors import StaleSnapshot
from sync.core.history import AsOf
from sync.core.plan import Plan, load_plan
from sync.core.schema import Layout
from sync.sheet.layout import build_init

from .conftest import AS_OF, PLAN_PATH
from .workbooks import col, values, write_fast

TRACK, LOG = "Theo dõi", "Nhật ký"
UNIT_TEXT = "Đã đăng 12 tin trên Cổng (đơn vị lưu lúc job đang ghi)"

# A unit's spreadsheet program, reduced to what matters: wait for "go", open the workbook, type into one
# cell, save (by replacing the file like Excel, or in place with the old mtime put back: a save inside
# the same timestamp tick), then say "saved". One line of stdin per save.
UNIT = r"""
import os, sys, openpyxl
path, tab, row, col, text, how = sys.argv[1:7]
print("ready", flush=True)
for n, line in enumerate(sys.stdin):
    if line.strip() != "go":
        break
    wb = openpyxl.load_workbook(path)
    wb[tab].cell(row=int(row), column=int(col)).value = text if n == 0 else f"{text} ({n + 1})"
    if how == "replace":
        wb.save(path + ".unit-save")
        os.replace(path + ".unit-save", path)
    else:
        st = os.stat(path)
        wb.save(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    print("saved", flush=True)
"""


class Unit:
    """A real second process that saves the workbook when told to, and confirms."""

    def __init__(self, path: Path, row: int, column: int, how: str = "replace"):
        self.proc = subprocess.Popen([sys.executable, "-c", UNIT, str(path), TRACK, str(row), str(column),
                                      UNIT_TEXT, how], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        assert self.stdout.readline().strip() == "ready"
        self.saves = 0

    def save_now(self) -> None:
        self.stdin.write("go\n")
        self.stdin.flush()
        assert self.stdout.readline().strip() == "saved"
        self.saves += 1

    def close(self) -> None:
        self.stdin.close()
        assert self.proc.wait(timeout=120) == 0


def unit_cells(path: Path) -> dict:
    """Every cell of the tracking tab except the job's two columns, and the plan tab whole."""
    wb = openpyxl.load_workbook(path, read_only=True)  # values only: what a unit typed
    try:
        rows = list(wb[TRACK].iter_rows(values_only=True))
        plan = list(wb["Kế hoạch"].iter_rows(values_only=True))
    finally:
        wb.close()
    heads = list(rows[0])
    job = {heads.index("Kiểm tra"), heads.index("Cảnh báo")}
    cells = {(TRACK, r, c + 1): v for r, row in enumerate(rows, start=1) for c, v in enumerate(row)
             if c not in job and v not in (None, "")}
    cells.update({("Kế hoạch", r, c + 1): v for r, row in enumerate(plan, start=1) for c, v in enumerate(row)
                  if v not in (None, "")})
    return cells


def temps(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(files.temp_prefix(path)))


@pytest.fixture
def inited(inited_project):
    """After `init` (its workbook and state file, built once per test process and copied)."""
    return inited_project


@pytest.fixture
def typed(inited):
    """The workbook with a few entries the units typed, so that 'no typed cell changed' means something."""
    wb = openpyxl.load_workbook(inited.workbook)
    ws = wb[TRACK]
    status, q3 = col(inited.workbook, TRACK, "Tình trạng"), col(inited.workbook, TRACK, "Kết quả Quý III")
    ws.cell(row=2, column=status).value = "Hoàn thành"
    ws.cell(row=3, column=status).value = "xong"  # a mistake the pass reports
    ws.cell(row=4, column=q3).value = "Tổ chức 2 hội nghị"
    wb.save(inited.workbook)
    return inited


# --- item 2: a unit's save during our save is never overwritten ------------------------------------------

def _race(monkeypatch, unit: Unit, times: int) -> list[Path]:
    seen = []

    def temp_written(self, tmp):
        seen.append(tmp)
        assert tmp.exists() and zipfile.is_zipfile(tmp)  # our new workbook is whole on disk
        if len(seen) <= times:
            unit.save_now()

    monkeypatch.setattr(LocalBackend, "_temp_written", temp_written)
    return seen


@pytest.mark.parametrize("how", ["replace", "in-place-same-mtime"])
@pytest.mark.parametrize("rep", range(int(os.environ.get("CCHC_RACE_REPEAT", "1"))))
def test_unit_save_while_our_temp_is_written_survives(typed, monkeypatch, how, rep):
    path = typed.workbook
    q2 = col(path, TRACK, "Kết quả Quý II")
    before = unit_cells(path)
    unit = Unit(path, 5, q2, "replace" if how == "replace" else "inplace")
    seen = _race(monkeypatch, unit, times=1)
    code, out, err = typed.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    unit.close()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["attempts"] == 2 and summary["written"] is True
    assert "vừa được lưu bởi người khác" in err and "đã đọc lại" in err
    after = unit_cells(path)
    assert after.pop((TRACK, 5, q2)) == UNIT_TEXT  # the unit's edit survived our write
    before.pop((TRACK, 5, q2), None)
    assert after == before  # and nothing else a unit typed changed
    ws = openpyxl.load_workbook(path)[TRACK]
    assert ws.cell(row=3, column=col(path, TRACK, "Kiểm tra")).value  # our second attempt did write
    assert len(list(openpyxl.load_workbook(path)[LOG].iter_rows())) == 2  # one log line, not two
    assert len(seen) == 2 and all(not p.exists() for p in seen) and temps(path) == []


def test_a_workbook_that_keeps_changing_is_left_alone(typed, monkeypatch):
    """Saved under us on every attempt: three tries, then exit 3 saying nothing was written."""
    path = typed.workbook
    q2 = col(path, TRACK, "Kết quả Quý II")
    unit = Unit(path, 5, q2)
    seen = _race(monkeypatch, unit, times=99)
    code, out, err = typed.cli("run", "--as-of", AS_OF.isoformat())
    unit.close()
    assert code == 3 and "chưa ghi gì" in err and str(path) in err
    assert unit.saves == 3 and len(seen) == 3
    ws = openpyxl.load_workbook(path)[TRACK]
    assert ws.cell(row=5, column=q2).value == f"{UNIT_TEXT} (3)"  # the unit's last save is what stands
    assert ws.cell(row=3, column=col(path, TRACK, "Kiểm tra")).value is None  # none of ours landed
    assert temps(path) == []


# --- the workbook read() loaded is the one write() changes: one load per pass, never a lost save ---------------

def _count_loads(monkeypatch) -> list[Path]:
    from sync.backends import xlsx_read
    loads: list[Path] = []
    real = xlsx_read.load  # the one way the local backend loads the workbook (the dashboard shortened or not)

    def counting(path, *args, **kwargs):
        loads.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(xlsx_read, "load", counting)
    return loads


def test_a_pass_loads_the_workbook_once(typed, monkeypatch):
    loads = _count_loads(monkeypatch)
    assert typed.run_json()["written"] is True
    assert loads == [typed.workbook]  # read() loaded it; write() changed that same Workbook and saved it


@pytest.mark.parametrize("how", ["replace", "in-place-same-mtime"])
def test_a_save_between_read_and_write_is_not_lost_to_the_kept_workbook(typed, monkeypatch, how):
    """The Workbook kept from read() is stale once a unit saves: write() refuses it (the fingerprint, even
    for a save in place that puts the old mtime back) and the next read loads the unit's file."""
    path = typed.workbook
    q2 = col(path, TRACK, "Kết quả Quý II")
    loads = _count_loads(monkeypatch)
    backend = LocalBackend(path)
    snapshot = backend.read()
    unit = Unit(path, 6, q2, "replace" if how == "replace" else "inplace")
    unit.save_now()
    unit.close()
    saved = path.read_bytes()
    changes = build_init(load_plan(PLAN_PATH), snapshot, Layout())
    with pytest.raises(StaleSnapshot):
        backend.write(snapshot, changes)
    assert path.read_bytes() == saved and temps(path) == []  # nothing of ours landed
    fresh = backend.read()
    backend.write(fresh, build_init(load_plan(PLAN_PATH), fresh, Layout()))
    assert loads == [path, path]  # the stale Workbook was never saved; each read loaded the file once
    assert openpyxl.load_workbook(path)[TRACK].cell(row=6, column=q2).value == UNIT_TEXT


def build_big_workbook(path: Path, plan) -> None:
    """The bench's 10,000-row workbook (`init` and the sample entries, sync.usecases.demo.seed) in a few seconds: the
    seed runs on the memory backend, the reference for what a backend holds, and its values are streamed
    to the file in openpyxl's write-only mode. Formatting (widths, dropdowns, colours) is left out: the race
    is about a unit's save surviving our write of a large file, and our pass writes the formats it needs."""
    from sync.backends.memory import MemoryBackend
    from sync.usecases.demo import seed
    memory = MemoryBackend()
    seed(memory, plan, AS_OF, mistakes=7)
    write_fast(path, {name: [[None if v == "" else v for v in row] for row in tab.rows]
                      for name, tab in memory.tabs.items()})


def _big_workbook(request, tmp_path_factory) -> tuple[Path, Plan]:
    """A 10,000-row workbook, built once per machine and kept in pytest's cache (keyed by the code that
    shapes it). Test processes running side by side (pytest-xdist) take a file lock: one builds, the others
    wait and copy; the file appears whole or not at all (os.replace)."""
    from filelock import FileLock

    from sync.core.plan import load_plan
    from sync.usecases.demo import synthetic_plan
    plan = synthetic_plan(load_plan(PLAN_PATH), 10000)
    sources = ("sync/usecases/demo.py", "sync/sheet/layout.py", "sync/core/schema.py", "sync/backends/memory.py",
               str(PLAN_PATH),
               "tests/workbooks.py", "tests/test_faults_local.py")
    key = hashlib.sha256(b"".join((PROJECT_DIR / f).read_bytes() for f in sources)).hexdigest()[:16]
    folder = Path(request.config.cache.mkdir("cchc-faults"))
    cached = folder / f"wb-10000-{key}.xlsx"
    with FileLock(str(folder / "wb-10000.lock"), timeout=600):
        if not cached.exists():
            work = tmp_path_factory.mktemp("big") / "wb.xlsx"
            build_big_workbook(work, plan)
            part = cached.with_suffix(f".{os.getpid()}.part")
            shutil.copyfile(work, part)
            os.replace(part, cached)
    return cached, plan


@pytest.mark.scale
@pytest.mark.parametrize("rep", range(int(os.environ.get("CCHC_RACE_REPEAT_BIG", "1"))))
def test_unit_save_survives_at_10000_rows(request, tmp_path_factory, tmp_path, monkeypatch, rep):
    from sync.sheet.sync_pass import PassOptions
    from sync.usecases.pipeline import run_pass
    cached, plan = _big_workbook(request, tmp_path_factory)
    path = tmp_path / "wb.xlsx"
    path.write_bytes(cached.read_bytes())
    q2 = col(path, TRACK, "Kết quả Quý II")
    before = unit_cells(path)
    unit = Unit(path, 9000, q2)
    seen = _race(monkeypatch, unit, times=1)
    result = run_pass(LocalBackend(path), plan, Layout(), PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8)))
    unit.close()
    assert result.attempts == 2 and result.held is None and len(seen) == 2
    after = unit_cells(path)
    assert after.pop((TRACK, 9000, q2)) == UNIT_TEXT  # the unit's edit survived our write
    before.pop((TRACK, 9000, q2), None)  # (what was there before the unit typed over it)
    assert after == before
    assert temps(path) == []


def test_fingerprint_sees_a_same_size_same_mtime_rewrite(tmp_path):
    path = tmp_path / "f.xlsx"
    path.write_bytes(b"A" * 1000)
    first = xlsx_file.fingerprint(path)
    st = path.stat()
    with open(path, "r+b") as fh:  # in place: same inode, same size
        fh.write(b"B")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = xlsx_file.fingerprint(path)
    assert (second.ino, second.size, second.mtime_ns) == (first.ino, first.size, first.mtime_ns)
    assert second != first


# --- item 3: a workbook open in an office program is not replaced under it -------------------------------

def excel_owner_file(user: str) -> bytes:
    """An Excel owner file as Excel writes it (165 bytes; see sync/backends/xlsx_file.py)."""
    acp = unicodedata.normalize("NFD", user).encode("cp1258", errors="replace")[:52]  # tone marks apart
    data = bytes([len(acp)]) + acp
    data += b" " * (55 - len(data))
    data += len(user).to_bytes(2, "little") + user.encode("utf-16-le")
    while len(data) < 165:
        data += b" \x00"
    return data[:165]


def libreoffice_lock(name: str, login: str = "lan", host: str = "VP-PC07", when: str = "28.11.2026 09:15") -> bytes:
    esc = lambda s: s.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")  # noqa: E731
    return f"{esc(name)},{esc(login)},{esc(host)},{when},file:///home/{login}/.config/libreoffice/4;".encode()


def test_excel_owner_file_parses():
    assert xlsx_file.parse_excel_owner(excel_owner_file("Nguyễn Thị Lan")) == "Nguyễn Thị Lan"
    assert xlsx_file.parse_excel_owner(excel_owner_file("lan")) == "lan"
    assert xlsx_file.parse_excel_owner(b"") is None and xlsx_file.parse_excel_owner(b"\x00" * 165) is None
    word = bytes([3]) + b"lan" + b"\x00" * 50 + (3).to_bytes(2, "little") + "Lan".encode("utf-16-le")
    assert xlsx_file.parse_excel_owner(word + b"\x00" * (162 - len(word))) == "Lan"  # Word's layout
    assert xlsx_file.parse_excel_owner(bytes([3]) + b"lan" + b" " * 51) == "lan"  # no UTF-16 copy


def test_libreoffice_lock_parses():
    assert xlsx_file.parse_libreoffice_lock(libreoffice_lock("Lê, Hoa; VP")) == ("Lê, Hoa; VP", "VP-PC07",
                                                                                     "28.11.2026 09:15")
    assert xlsx_file.parse_libreoffice_lock(b",binh,PC2,01.12.2026 08:00,file:///x;")[0] == "binh"


@pytest.mark.parametrize("program", ["Excel", "LibreOffice"])
def test_open_in_an_office_program_computes_but_does_not_write(typed, program):
    path = typed.workbook
    if program == "Excel":
        owner = path.with_name("~$" + path.name)
        owner.write_bytes(excel_owner_file("Nguyễn Thị Lan"))
        who = "Nguyễn Thị Lan"
    else:
        owner = path.with_name(f".~lock.{path.name}#")
        owner.write_bytes(libreoffice_lock("Trần Văn Bình", host="VP-PC07"))
        who = "Trần Văn Bình"
    before = path.read_bytes()
    code, out, err = typed.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 3
    summary = json.loads(out)  # the figures still go out
    assert summary["rows"] == 76 and summary["errors"] >= 1 and summary["written"] is False
    assert summary["cells_written"] == 0 and who in summary["not_written_reason"]
    assert who in err and program in err and owner.name in err and "local.path" in err and "chưa ghi gì" in err
    assert path.read_bytes() == before and temps(path) == []
    code, out, err = typed.cli("run", "--as-of", AS_OF.isoformat())  # the words say it too
    assert code == 3 and out.startswith("[Chưa ghi] Tính đến 20/09/2024: 76 dòng") and who in err
    code, out, _ = typed.cli("status")
    assert "LỖI" in out
    code, _, err = typed.cli("init")
    assert code == 3 and who in err and path.read_bytes() == before
    owner.unlink()  # closed: the next pass writes
    assert typed.run_json()["written"] is True and path.read_bytes() != before


def test_stale_owner_file_is_ignored_with_a_note(typed):
    path = typed.workbook
    owner = path.with_name("~$" + path.name)
    owner.write_bytes(excel_owner_file("Nguyễn Thị Lan"))
    old = time.time() - 13 * 3600
    os.utime(owner, (old, old))
    before = unit_cells(path)
    code, out, err = typed.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 0 and json.loads(out)["written"] is True
    assert owner.name in err and "local.owner_file_max_age_hours" in err
    assert unit_cells(path) == before
    # the age is the Office's to set: a 2-hour-old owner file is stale at 1 hour, fresh at the default 12
    os.utime(owner, (time.time() - 2 * 3600,) * 2)
    typed.write_config({"local": {"path": str(path), "owner_file_max_age_hours": 1}})
    assert typed.cli("run", "--as-of", AS_OF.isoformat())[0] == 0
    typed.write_config({"local": {"path": str(path)}})
    assert typed.cli("run", "--as-of", AS_OF.isoformat())[0] == 3


def test_opened_while_we_save_is_not_replaced(typed, monkeypatch):
    """Someone opens the workbook in Excel while our temporary file is written: we do not replace it."""
    path = typed.workbook
    owner = path.with_name("~$" + path.name)

    def temp_written(self, tmp):
        owner.write_bytes(excel_owner_file("Phạm Minh Tú"))

    monkeypatch.setattr(LocalBackend, "_temp_written", temp_written)
    before = path.read_bytes()
    code, out, err = typed.cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 3 and "Phạm Minh Tú" in err and json.loads(out)["written"] is False
    assert path.read_bytes() == before and temps(path) == []


# --- item 9: faults of the environment are exit 2 or 3 with the path and the key, never 1 ---------------

def _assert_refused(project, code_wanted: int, *words: str, command=("run", "--as-of", "2024-09-20")):
    code, out, err = project.cli(*command)
    assert code == code_wanted, err
    for word in (*words, "local.path"):
        assert word in err, (word, err)
    assert "Traceback" not in err and "chương trình (xin báo" not in err
    return err


@pytest.fixture
def restore_modes():
    changed: list = []
    yield changed
    for p, mode in changed:
        os.chmod(p, mode)


def test_read_only_folder(typed, restore_modes):
    folder = typed.workbook.parent
    before, mode = typed.workbook.read_bytes(), folder.stat().st_mode
    restore_modes.append((folder, mode))
    os.chmod(folder, 0o555)
    _assert_refused(typed, 2, str(folder), "không cho phép ghi")
    _assert_refused(typed, 2, str(folder), command=("init",))
    assert typed.workbook.read_bytes() == before and temps(typed.workbook) == []


def test_read_only_workbook_is_not_replaced_behind_its_owner(typed, restore_modes):
    path = typed.workbook
    before = path.read_bytes()
    restore_modes.append((path, path.stat().st_mode))
    os.chmod(path, 0o444)  # as root os.access says yes: the bits say the owner wants it left alone
    _assert_refused(typed, 2, str(path), "chỉ đọc")
    assert path.read_bytes() == before and (path.stat().st_mode & 0o777) == 0o444
    code, out, _ = typed.cli("run", "--as-of", "2024-09-20", "--dry-run")  # reading is fine
    assert code == 0 and "76 dòng" in out


@pytest.mark.parametrize("part, damage, words", [
    ("xl/worksheets/sheet2.xml", "half", ("xl/worksheets/sheet2.xml", "bị hỏng")),  # the tracking tab, cut
    ("xl/styles.xml", "garbage", ("xl/styles.xml", "bị hỏng")),
    ("docProps/core.xml", "half", ("docProps/core.xml", "bị hỏng")),
    ("xl/workbook.xml", "missing", ("xl/workbook.xml", "Không mở được")),
    ("xl/styles.xml", "missing", ("Không mở được",)),
])
def test_damaged_xml_inside_the_xlsx(typed, part, damage, words):
    path = typed.workbook
    damaged = path.with_name("tmp-damaged.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == part:
                if damage == "missing":
                    continue
                data = data[: len(data) // 2] if damage == "half" else b"\x00\xff not xml"
            dst.writestr(name, data)
    os.replace(damaged, path)
    before = path.read_bytes()
    _assert_refused(typed, 2, str(path), *words)
    _assert_refused(typed, 2, str(path), command=("init",))
    assert path.read_bytes() == before


def test_encrypted_workbook_says_it_has_a_password(typed):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile
    path = typed.workbook
    plain = path.read_bytes()
    with open(path, "rb") as src, open(path.with_name("enc.xlsx"), "wb") as dst:
        OOXMLFile(src).encrypt("matkhau", dst)
    os.replace(path.with_name("enc.xlsx"), path)
    assert path.read_bytes()[:8] == xlsx_file.OLE2_MAGIC and msoffcrypto
    before = path.read_bytes()
    _assert_refused(typed, 2, str(path), "mật khẩu")
    _assert_refused(typed, 2, str(path), "mật khẩu", command=("init",))
    assert path.read_bytes() == before != plain


def test_not_a_zip(typed):
    path = typed.workbook
    path.write_text("STT;Nhiệm vụ\n1;Ban hành kế hoạch\n", encoding="utf-8")  # a CSV saved as .xlsx
    before = path.read_bytes()
    _assert_refused(typed, 2, str(path), "không phải tệp Excel .xlsx")
    _assert_refused(typed, 2, str(path), command=("init",))
    assert path.read_bytes() == before


def test_a_directory_where_the_workbook_should_be(project):
    project.workbook.mkdir(parents=True)
    _assert_refused(project, 2, str(project.workbook), "thư mục")
    _assert_refused(project, 2, str(project.workbook), "thư mục", command=("init",))
    assert project.workbook.is_dir() and list(project.workbook.iterdir()) == []


# --- item 11: leftovers of a killed pass; file modes -----------------------------------------------------

KILLED_PASS = r"""
import os, signal, sys
from pathlib import Path
from sync.backends.local import LocalBackend
from sync.sheet.layout import build_init
from sync.core.plan import load_plan
from sync.core.schema import Layout

class Killed(LocalBackend):
    def _temp_written(self, tmp):
        print(tmp, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the machine dies with the new file whole but not moved

backend = Killed(sys.argv[1])
snapshot = backend.read()
backend.write(snapshot, build_init(load_plan(sys.argv[2]), snapshot, Layout()))
"""


def test_temp_file_of_a_killed_pass_is_removed_by_the_next(typed):
    path = typed.workbook
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    proc = subprocess.run([sys.executable, "-c", KILLED_PASS, str(path), str(PLAN_PATH)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    left = Path(proc.stdout.strip())
    assert left.exists() and temps(path) == [left.name]
    assert path.read_bytes() == before  # killed before the replace: the workbook is whole and unchanged
    others = [path.with_name(".wb.xlsx.abc.tmp"), path.with_name("ghi-chu.tmp"), path.with_name("~$khac.xlsx")]
    for other in others:
        other.write_text("không phải của chương trình", encoding="utf-8")
    newer = path.with_name(f"{files.temp_prefix(path)}1-00000000{files.TEMP_SUFFIX}")
    newer.write_bytes(b"")  # ours by name, but written after the next pass took the lock: not touched
    os.utime(newer, (time.time() + 3600,) * 2)
    others.append(newer)
    code, _, err = typed.cli("run", "--as-of", AS_OF.isoformat())
    assert code == 0 and left.name in err
    assert not left.exists() and all(o.exists() for o in others) and temps(path) == [newer.name]


@pytest.fixture
def umask():
    def set_to(mask):
        old = os.umask(mask)
        restore.append(old)
    restore: list[int] = []
    yield set_to
    if restore:
        os.umask(restore[0])


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_new_workbook_gets_the_umask_mode(project, umask, mask):
    umask(mask)
    assert project.cli("init")[0] == 0
    assert project.workbook.stat().st_mode & 0o777 == 0o666 & ~mask


def test_existing_workbook_keeps_its_mode_and_owner(typed):
    path = typed.workbook
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, 4321, 4322)
    st = path.stat()
    assert typed.run_json()["written"] is True
    after = path.stat()
    assert after.st_ino != st.st_ino  # replaced, not rewritten in place
    assert after.st_mode & 0o7777 == 0o640 and (after.st_uid, after.st_gid) == (st.st_uid, st.st_gid)
    assert values(path)  # still opens
