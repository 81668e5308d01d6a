"""Faults of the environment and of the Office's files: exact exit codes, Vietnamese messages naming the
file, key or line and the fix, never a traceback.

Most cases run the command line in this process (tests/cli_helpers.py: what `python -m sync` runs, with its
output captured); the real entry point (`python -m sync` as cron starts it) is kept where only a process shows
the point: a reader that closes the pipe, the interpreter's exit status and stderr, and the cases below.

State-file faults also prove the order of a pass: the state file is checked (a 'started' row written)
before the workbook is, so a broken state file leaves the workbook byte for byte as it was.
Tests run as root, whom permission bits do not stop: the read-only cases run twice, once as root (the
job's own check of the bits, in process) and once as root without the capabilities that bypass the bits
(CAP_DAC_OVERRIDE…, dropped with `setpriv`, in a real process), which the OS then treats like any owner: what a
normal Office user sees.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import yaml

from sync.core.config import PROJECT_DIR

from .cli_helpers import in_process
from .conftest import PLAN_PATH

AS_OF = "2024-09-20"
BYPASS = "dac_override,dac_read_search,fowner"
UNPRIVILEGED = ["setpriv", f"--bounding-set=-{BYPASS.replace(',', ',-')}", f"--inh-caps=-{BYPASS.replace(',', ',-')}"]


def python(*args: str, cwd: Path, unprivileged: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CCHC_DEBUG", None)
    prefix = UNPRIVILEGED if unprivileged and os.geteuid() == 0 else []  # a normal user is unprivileged already
    return subprocess.run([*prefix, sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def sync(*args: str, cwd: Path, unprivileged: bool = False) -> subprocess.CompletedProcess:
    """`python -m sync ARGS` as cron runs it: a real process."""
    return python("-m", "sync", *args, cwd=cwd, unprivileged=unprivileged)


def office_user(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m sync ARGS` in a real process without the capabilities that bypass permission bits."""
    return sync(*args, cwd=cwd, unprivileged=True)


class Site:
    """A project folder: settings, a workbook after `init` and one pass, the state file in `st/`. Its commands
    run in this process, or as `run` says (a real process, for an Office user's view)."""

    def __init__(self, root: Path, run: Callable[..., subprocess.CompletedProcess] = in_process):
        self.root, self.run = root, run
        self.workbook = root / "wb.xlsx"
        self.state = root / "st" / "state.sqlite"
        self.config = root / "settings.yaml"
        self.config.write_text(yaml.safe_dump({"local": {"path": str(self.workbook)}, "state": str(self.state),
                                               "plan": str(PLAN_PATH), "lock_wait_s": 5}), encoding="utf-8")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(*args, "--config", str(self.config), cwd=self.root)

    def prepare(self) -> None:
        assert self.cli("init").returncode == 0
        proc = self.cli("run", "--as-of", AS_OF)
        assert proc.returncode == 0, proc.stderr

    def copy_of(self, template: Site) -> Site:
        """The template's workbook and state file (after `init` and one pass), without running them again."""
        shutil.copy2(template.workbook, self.workbook)
        shutil.copytree(template.state.parent, self.state.parent)
        return self

    def fingerprint(self) -> str:
        return hashlib.sha256(self.workbook.read_bytes()).hexdigest()

    def log_lines(self) -> int:
        wb = openpyxl.load_workbook(self.workbook, read_only=True)  # the log's values only: no styles, no merges
        try:
            ws = wb["Nhật ký"]
            return sum(1 for row in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in row))
        finally:
            wb.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Site:
    s = Site(tmp_path_factory.mktemp("template"))
    s.prepare()
    return s


@pytest.fixture
def site(tmp_path, template) -> Site:
    return Site(tmp_path).copy_of(template)


@pytest.fixture(scope="module")
def capabilities_can_be_dropped(tmp_path_factory) -> bool:
    """Whether `setpriv` can take root's bypass away here (asked once per module; a normal user has none)."""
    if os.geteuid() != 0:
        return True
    return bool(shutil.which("setpriv")) and python("-c", "", cwd=tmp_path_factory.getbasetemp(),
                                                    unprivileged=True).returncode == 0


@pytest.fixture
def office_site(tmp_path, template, capabilities_can_be_dropped):
    """The same, run without the power to ignore permission bits: the OS refuses what the bits say."""
    if not capabilities_can_be_dropped:
        pytest.skip("setpriv cannot drop capabilities here")
    return Site(tmp_path, run=office_user).copy_of(template)


def assert_clean(proc: subprocess.CompletedProcess, code: int, *words: str) -> str:
    text = proc.stdout + proc.stderr
    assert proc.returncode == code, text
    assert "Traceback" not in text and "Error" not in text, text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


# --- the state file (config key `state`) ----------------------------------------------------------------

def _garbage(s: Site) -> None:
    s.state.write_bytes(b"khong phai SQLite " * 500)


def _truncated(s: Site) -> None:
    data = s.state.read_bytes()
    s.state.write_bytes(data[:len(data) // 2 if len(data) > 8192 else 100])


def _damaged_inside(s: Site) -> None:
    """A damaged page in the middle: a single insert would not notice, SQLite's quick check does."""
    with sqlite3.connect(s.state) as db:  # grow the pass log so that there are pages to damage
        db.executemany("INSERT INTO passes (command, started_at, ok, message) VALUES ('run', ?, 1, ?)",
                       [(f"2024-09-{1 + i % 28:02d}T08:00:00+07:00", "giá trị " * 20) for i in range(3000)])
    data = bytearray(s.state.read_bytes())
    page = 4096
    assert len(data) > 20 * page
    data[10 * page:11 * page] = bytes(range(256)) * 16
    s.state.write_bytes(bytes(data))


def _directory(s: Site) -> None:
    s.state.unlink()
    s.state.mkdir()


def _read_only(s: Site) -> None:
    s.state.chmod(0o444)


def _read_only_folder(s: Site) -> None:
    s.state.parent.chmod(0o555)


def _another_programs(s: Site) -> None:
    s.state.unlink()
    with sqlite3.connect(s.state) as db:
        db.execute("CREATE TABLE passes (id INTEGER PRIMARY KEY, player TEXT, score INTEGER)")


STATE_FAULTS = {
    "another program's": (_another_programs, "của một chương trình khác"),
    "garbage": (_garbage, "không phải tệp SQLite"),
    "truncated": (_truncated, "bị hỏng"),
    "damaged inside": (_damaged_inside, "bị hỏng"),
    "a directory": (_directory, "là một thư mục"),
    "read-only file": (_read_only, "chỉ đọc"),
    "read-only folder": (_read_only_folder, "không ghi được"),
}


@pytest.mark.parametrize("fault", list(STATE_FAULTS))
def test_a_broken_state_file_stops_the_pass_before_the_workbook_is_written(site, fault):
    damage, words = STATE_FAULTS[fault]
    before, lines = site.fingerprint(), site.log_lines()
    damage(site)
    try:
        proc = site.cli("run", "--as-of", AS_OF)
        text = assert_clean(proc, 2, str(site.state), "'state'", words, "Sửa:")
        assert "trước khi ghi gì vào bảng tính" in text
        assert site.fingerprint() == before and site.log_lines() == lines == 1
        # `status` still reports, names the file, exits 2
        status = site.cli("status")
        assert_clean(status, 2, str(site.state), "'state'", words)
        init = site.cli("init")
        assert_clean(init, 2, str(site.state), "'state'")
        assert site.fingerprint() == before
    finally:
        site.state.parent.chmod(0o755)


def test_status_of_a_read_only_state_still_lists_the_passes(site):
    site.state.chmod(0o444)
    proc = site.cli("status")
    text = assert_clean(proc, 2, "Các lượt chạy gần nhất", "76 dòng", "chỉ đọc", f"chmod u+w {site.state}")
    assert "run" in text
    as_json = site.cli("status", "--json")
    assert as_json.returncode == 2
    data = json.loads(as_json.stdout)
    assert "chỉ đọc" in data["problem"] and data["passes"][0]["rows"] == 76


def test_a_file_where_the_state_folder_should_be(site, tmp_path):
    blocker = tmp_path / "st2"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    cfg = yaml.safe_load(site.config.read_text(encoding="utf-8"))
    cfg["state"] = str(blocker / "state.sqlite")
    site.config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    before = site.fingerprint()
    for command in (["run", "--as-of", AS_OF], ["status"]):  # the job lock's fault, then the state file's
        text = assert_clean(site.cli(*command), 2, f"'{blocker}' là một tệp, không phải thư mục", "'state'")
        assert "không ghi được" not in text, text
    assert site.fingerprint() == before


def test_a_state_file_locked_by_another_program_is_busy_exit_3(site, monkeypatch):
    """Another program holds SQLite's write lock longer than the busy wait: exit 3 (try again), not 1."""
    import datetime as dt

    from sync.core.errors import Unreachable
    from sync.state.store import State
    holder = sqlite3.connect(site.state, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    connect = sqlite3.connect
    # the file's real lock, without waiting the job's 30 s for it
    monkeypatch.setattr(sqlite3, "connect", lambda path, timeout=5.0, **kw: connect(path, timeout=0.05, **kw))
    try:
        with pytest.raises(Unreachable) as caught:
            State(site.state).begin_pass("run", dt.datetime(2024, 9, 20, 8, 0))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert caught.value.exit_code == 3 and str(site.state) in str(caught.value) and "khóa" in str(caught.value)


def test_status_of_a_busy_state_file_waits_once(site, monkeypatch, capsys):
    """`status` on a state file another program holds: one busy wait (the message says how long), not two."""
    from sync.entry import cli
    holder = sqlite3.connect(site.state, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    connect, waits = sqlite3.connect, []

    def short_wait(path, timeout=5.0, **kw):  # the file's real lock, without waiting the job's 30 s for it
        if Path(path) == site.state:
            waits.append(timeout)
        return connect(path, timeout=0.05, **kw)
    monkeypatch.setattr(sqlite3, "connect", short_wait)
    try:
        code = cli.main(["status", "--config", str(site.config)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert code == 3 and "30 giây" in err and str(site.state) in err, err
    assert waits == [30], waits


@pytest.mark.parametrize("command", [["status"], ["export"], ["run", "--as-of", AS_OF]])
def test_a_reader_that_stops_early_is_not_a_bug(site, command):
    """`status | head -5`: the reader closes the pipe. Closed before the command writes, deterministically."""
    read_end, write_end = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CCHC_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "sync", *command, "--config", str(site.config)], cwd=site.root,
                            env=env, stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    os.close(read_end)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and err == "", err


# --- as a normal user: the OS refuses, the job says what to fix ---------------------------------------

def test_office_user_read_only_state_file(office_site):
    s = office_site
    s.state.chmod(0o444)
    before = s.fingerprint()
    proc = s.cli("run", "--as-of", AS_OF)
    assert_clean(proc, 2, str(s.state), "'state'", "chỉ đọc", "chown")
    assert s.fingerprint() == before and s.log_lines() == 1
    assert_clean(s.cli("status"), 2, "76 dòng", "chỉ đọc")
    s.state.chmod(0o644)
    assert s.cli("run", "--as-of", AS_OF).returncode == 0 and s.log_lines() == 2  # fixed: the next pass runs


@pytest.mark.parametrize("mode", [0o200, 0o000])
def test_office_user_unreadable_state_file_is_not_called_read_only(office_site, mode):
    s = office_site
    s.state.chmod(mode)
    try:
        for command in (["run", "--as-of", AS_OF], ["status"]):
            text = assert_clean(s.cli(*command), 2, str(s.state), "'state'", "không có quyền đọc", "chmod u+rw")
            assert "chỉ đọc" not in text, text
    finally:
        s.state.chmod(0o644)


def test_office_user_read_only_state_folder(office_site):
    s = office_site
    s.state.parent.chmod(0o555)
    try:
        before = s.fingerprint()
        proc = s.cli("run", "--as-of", AS_OF)
        assert_clean(proc, 2, str(s.state.parent), "'state'", "không ghi được")
        assert s.fingerprint() == before and s.log_lines() == 1
    finally:
        s.state.parent.chmod(0o755)


def test_office_user_lock_file_cannot_be_created(office_site):
    s = office_site
    (s.root / "st" / "state.sqlite.lock").unlink(missing_ok=True)
    s.state.parent.chmod(0o555)
    try:
        proc = s.cli("run", "--as-of", AS_OF)
        assert_clean(proc, 2, str(s.state.parent), "'state'", "không ghi được")
    finally:
        s.state.parent.chmod(0o755)


@pytest.mark.parametrize("case", ["file", "folder"])
def test_sqlite_refusals_seen_by_a_normal_user_are_named(office_site, case):
    """Below the job's own check: SQLite's refusal itself (SQLITE_READONLY…) becomes exit 2, not a bug."""
    s = office_site
    if case == "file":
        s.state.chmod(0o444)
    else:
        s.state.parent.chmod(0o555)
    script = ("import datetime, sys\nfrom sync.state.store import State\nfrom sync.core.errors import SyncError\n"
              f"try:\n    State({str(s.state)!r}).record_pass('run', datetime.datetime(2024, 9, 20), True, {{}})\n"
              "except SyncError as exc:\n    print(exc.exit_code, exc)\n")
    try:
        proc = python("-c", script, cwd=s.root, unprivileged=True)
    finally:
        s.state.parent.chmod(0o755)
    assert proc.stdout.startswith("2 "), proc.stdout + proc.stderr
    assert ("chỉ đọc" if case == "file" else "không ghi được") in proc.stdout


# --- status of failed and unfinished passes ------------------------------------------------------------

def test_status_shows_why_a_pass_failed_not_zero_rows(site):
    wb = openpyxl.load_workbook(site.workbook)
    wb["Theo dõi"].title = "Theo doi cu"
    wb.save(site.workbook)
    proc = site.cli("run", "--as-of", AS_OF)
    assert proc.returncode == 2
    status = site.cli("status")
    text = assert_clean(status, 0, "LỖI")
    failed = next(line for line in text.splitlines() if "LỖI" in line)
    assert "Theo dõi" in failed and "0 dòng" not in failed


def test_status_shows_what_init_wrote_not_figures_it_never_computed(tmp_path):
    s = Site(tmp_path)
    assert s.cli("init").returncode == 0
    assert s.cli("init").returncode == 0  # the second finds everything in place
    text = assert_clean(s.cli("status"), 4, "init")
    first, second = [line for line in text.splitlines() if " init " in line][::-1]
    assert first.split("OK", 1)[1].strip().startswith("ghi ") and first.rstrip().endswith(" ô"), first
    assert "không ghi ô nào" in second, second
    for line in (first, second):
        assert "dòng" not in line and "lỗi" not in line and "quá hạn" not in line and "tính đến" not in line, line


def test_a_pass_that_never_ended_shows_as_unfinished(site):
    import datetime as dt

    from sync.state.store import State
    State(site.state).begin_pass("run", dt.datetime(2024, 9, 20, 9, 0).astimezone())  # then killed
    text = assert_clean(site.cli("status"), 0, "DỞ", "chưa xong")
    assert "0 dòng" not in next(line for line in text.splitlines() if "DỞ" in line)


# --- every message in Vietnamese: settings, plan file, command line -----------------------------------

ENGLISH = ("Input should", "Extra inputs", "Field required", "found character", "mapping values", "could not find",
           "invalid choice", "unrecognized arguments", "the following arguments", "expected one argument",
           "invalid int value", "usage:", "options:", "positional arguments", "show this help", "Value error",
           "Traceback")


def assert_vietnamese(proc: subprocess.CompletedProcess, code: int, *words: str) -> str:
    text = proc.stdout + proc.stderr
    assert proc.returncode == code, text
    for phrase in ENGLISH:
        assert phrase not in text, f"{phrase!r} in {text!r}"
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_tab_in_the_settings_names_the_line_and_the_fix(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("backend: local\nlocal:\n\tpath: wb.xlsx\n", encoding="utf-8")
    proc = in_process("run", "--config", str(cfg), cwd=tmp_path)
    assert_vietnamese(proc, 2, str(cfg), "dòng 3", "Tab", "dấu cách", "Sửa:")


def test_settings_of_the_wrong_shape_one_vietnamese_line_per_key(tmp_path):
    cfg = tmp_path / "s.yaml"
    text = ("backend: local\nlocal: [wb.xlsx]\nmail:\n  report_to: lanhdao@example.invalid\n  smtp:\n"
            "    port: hai lăm\n    securty: ssl\ndeadlines:\n  due_soon_days: 7.5\nstatus: 26\n")
    cfg.write_text(text, encoding="utf-8")
    out = assert_vietnamese(in_process("run", "--config", str(cfg), cwd=tmp_path), 2, str(cfg))
    expect = {"local": ("local: [", "phải là một bảng"), "mail.report_to": ("report_to", "phải là một danh sách"),
              "mail.smtp.port": ("port:", "phải là một số nguyên"),
              "mail.smtp.securty": ("securty", "có phải 'security'?"),
              "deadlines.due_soon_days": ("due_soon_days", "số nguyên"), "status": ("status:", "phải là một bảng")}
    for key, (fragment, words) in expect.items():
        line = next(x for x in out.splitlines() if f"khóa '{key}'" in x)
        assert f"dòng {line_of(text, fragment)}," in line and words in line, line


def test_a_misspelt_key_in_the_plan_file(tmp_path):
    plan_text = PLAN_PATH.read_text(encoding="utf-8")
    lead = line_of(plan_text, "    lead:")
    lines = plan_text.splitlines()
    lines[lead - 1] = lines[lead - 1].replace("lead:", "leed:")
    plan = tmp_path / "plan.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({"plan": str(plan), "local": {"path": str(tmp_path / "wb.xlsx")},
                                   "state": str(tmp_path / "st.sqlite")}), encoding="utf-8")
    proc = in_process("init", "--config", str(cfg), cwd=tmp_path)
    assert_vietnamese(proc, 2, str(plan), "'plan'", f"dòng {lead}", "tasks[0].leed", "có phải 'lead'?",
                      "sửa chính tả")
    assert not (tmp_path / "wb.xlsx").exists()


@pytest.mark.parametrize("text, words", [
    ("- một\n- hai\n", ("dòng 1", "toàn bộ tệp", "phải là một bảng")),
    ("title: KH\nissued: 2024-02-30\nyear: 2024\nunits: []\ntasks: []\n", ("dòng 2", "ngày không có thật")),
    ("title: KH\nissued: 2024-02-05\nyear: năm nay\nunits:\n  - code: VP\n    name: Văn phòng\n"
     "tasks:\n  - stt: 1\n    task: Một việc\n    lead: VP\n",
     ("dòng 3, khóa 'year': phải là một số nguyên (đang là 'năm nay')",
      "dòng 10, khóa 'tasks[0].lead': phải là một danh sách")),
    ("title: KH\nissued: 2024-02-05\nyear: 2024\nunits:\n  - code: VP\n    name: Văn phòng\n"
     "tasks:\n  - stt: 1\n    task: Một việc\n    lead: [VP]\n    support:\n      - VP\n      - CNTT\n",
     ("dòng 13, khóa 'tasks[0].support[1]': nhiệm vụ 1: mã đơn vị 'CNTT' không có trong 'units' (VP)",)),
    ("title: KH\nissued: 2024-02-05\nyear: 2024\nunits:\n  - code: VP\n    name: Văn phòng\n"
     "tasks:\n  - stt: 1\n    task: Một việc\n    lead: [VP]\n  - stt: 1\n    task: Việc khác\n    lead: [VP]\n",
     ("dòng 11, khóa 'tasks[1].stt': số thứ tự 'stt' 1 bị trùng với tasks[0]",)),
    ("title: KH\nissued: 2024-02-05\nyear: 2024\nunits:\n  - code: VP\n    name: Văn phòng\n"
     "  - code: VP\n    name: Văn phòng 2\ntasks: []\n",
     ("dòng 7, khóa 'units[1].code': mã đơn vị 'VP' bị trùng với units[0]",)),
    ("title: KH\nissued: 2024-02-05\nyear: 2024\nunits:\n  - code: VP\n    name: Văn phòng\n"
     "    email: {to: vp@example.invalid}\ntasks: []\n",
     ("dòng 7, khóa 'units[0].email': phải là một địa chỉ e-mail hoặc danh sách địa chỉ e-mail",)),
    ("title: KH\nissued: 2024-02-05\nyear: 2024\nunits:\n  - code: VP\n    name: Văn phòng\n"
     "    email: [1, 2]\ntasks: []\n",
     ("dòng 7, khóa 'units[0].email': phải là một địa chỉ e-mail hoặc danh sách địa chỉ e-mail",)),
])
def test_plan_files_of_the_wrong_shape(tmp_path, text, words):
    plan = tmp_path / "plan.yaml"
    plan.write_text(text, encoding="utf-8")
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({"plan": str(plan), "local": {"path": str(tmp_path / "wb.xlsx")},
                                   "state": str(tmp_path / "st.sqlite")}), encoding="utf-8")
    out = assert_vietnamese(in_process("run", "--config", str(cfg), cwd=tmp_path), 2, str(plan), *words)
    if all(", khóa '" in w for w in words):  # a check about one key names that key, once
        problems = [x for x in out.splitlines() if x.startswith("  - ")]
        assert "toàn bộ tệp" not in out and len(problems) == len(words), out


def test_a_key_written_twice_is_refused_naming_both_lines(tmp_path):
    wb = tmp_path / "wb.xlsx"
    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"local: {{path: {wb}}}\nstate: st.sqlite\nplan: {PLAN_PATH}\nstate: other.sqlite\n",
                   encoding="utf-8")
    for command in ("run", "status"):
        assert_vietnamese(in_process(command, "--config", str(cfg), cwd=tmp_path), 2, str(cfg), "khóa 'state'",
                          "dòng 2 và dòng 4", "Sửa:")
    assert not (tmp_path / "other.sqlite").exists() and not (tmp_path / "st.sqlite").exists()
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: KH\nissued: 2024-02-05\nyear: 2024\nunits:\n  - code: VP\n    name: Văn phòng\n"
                    "    name: Văn phòng Sở\ntasks: []\n", encoding="utf-8")
    cfg.write_text(f"local: {{path: {wb}}}\nplan: {plan}\n", encoding="utf-8")
    assert_vietnamese(in_process("run", "--config", str(cfg), cwd=tmp_path), 2, str(plan), "khóa 'name'",
                      "dòng 6 và dòng 7")


PASSWORD = "Mk@2024 bí-mật!"


@pytest.mark.parametrize("value", [PASSWORD, [PASSWORD], 'Mk2024*bimat'], ids=["text", "a list", "plain"])
def test_a_password_pasted_into_password_env_is_never_echoed(tmp_path, value):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump({"mail": {"mode": "smtp", "smtp": {"username": "vp", "password_env": value}}},
                                  allow_unicode=True), encoding="utf-8")
    secret = value[0] if isinstance(value, list) else value
    for command in (["run"], ["status"], ["report", "--send"]):
        proc = in_process(*command, "--config", str(cfg), cwd=tmp_path)
        text = assert_vietnamese(proc, 2, "mail.smtp.password_env", "TÊN của một biến môi trường")
        assert secret not in text and "Mk2024" not in text and "bí-mật" not in text


def test_a_password_that_breaks_the_yaml_is_not_echoed_either(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("mail:\n  smtp:\n    password_env: *Secr3t:x\n", encoding="utf-8")
    text = assert_vietnamese(in_process("run", "--config", str(cfg), cwd=tmp_path), 2, str(cfg), "dòng 3", "Sửa:")
    assert "Secr3t" not in text


def test_a_variable_name_in_password_env_is_accepted(tmp_path):
    from sync.core.config import load_settings
    cfg = tmp_path / "s.yaml"
    cfg.write_text("mail:\n  smtp:\n    password_env: CCHC_SMTP_PASSWORD_2\n", encoding="utf-8")
    assert load_settings(str(cfg)).mail.smtp.password_env == "CCHC_SMTP_PASSWORD_2"


@pytest.mark.parametrize("key", ["pass_id", "time", "emails"])
def test_a_log_column_under_headers_is_refused_not_ignored(tmp_path, key):
    """`headers:` renames plan and tracking columns only; a Nhật ký column key was accepted and then ignored."""
    from sync.core.schema import LOG_COLUMNS
    cfg, workbook = tmp_path / "s.yaml", tmp_path / "wb.xlsx"
    text = (f"local:\n  path: {workbook}\nstate: {tmp_path / 'st.sqlite'}\nheaders:\n  status: Trạng thái\n"
            f"  {key}: Cột khác\n")
    cfg.write_text(text, encoding="utf-8")
    for command in (["init"], ["run"]):
        out = assert_vietnamese(in_process(*command, "--config", str(cfg), cwd=tmp_path), 2, str(cfg))
        line = next(x for x in out.splitlines() if f"khóa 'headers.{key}'" in x)
        assert "dòng 6," in line and f"cột '{LOG_COLUMNS[key]}' của tab nhật ký" in line, line
        assert "không đổi tên được" in line and "dùng một trong: stt, task," in line and "done_date" in line, line
        assert "headers.status" not in out  # a key it honours is not named
    assert not workbook.exists()  # refused before anything was written


def test_an_unknown_key_under_headers_names_the_closest_one(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("headers:\n  statuz: Trạng thái\n  ngay_xong: Ngày xong\n", encoding="utf-8")
    out = assert_vietnamese(in_process("run", "--config", str(cfg), cwd=tmp_path), 2, str(cfg))
    lines = {key: next(x for x in out.splitlines() if f"khóa 'headers.{key}'" in x) for key in ("statuz", "ngay_xong")}
    assert "dòng 2," in lines["statuz"] and "(có phải 'status'?)" in lines["statuz"]
    assert "dòng 3," in lines["ngay_xong"] and "không phải tên cột nào" in lines["ngay_xong"]
    assert all("dùng một trong: stt," in x for x in lines.values())


def test_every_header_key_the_config_accepts_renames_a_column():
    """Accepted means honoured: each key `headers:` takes changes the layout the job reads and writes."""
    from sync.core.config import HEADER_KEYS, Settings
    for key in HEADER_KEYS:
        layout = Settings.model_validate({"headers": {key: "Tên mới"}}).layout
        assert "Tên mới" in {*layout.plan_columns.values(), *layout.tracking_columns.values()}, key


@pytest.mark.parametrize("argv, words", [
    (["rn"], ("lựa chọn 'rn' không có", "có phải 'run'?")),
    (["run", "--foo"], ("tham số không nhận ra: --foo",)),
    (["deadline"], ("thiếu tham số bắt buộc: phrase",)),
    ([], ("thiếu tham số bắt buộc: LỆNH",)),
    (["plan"], ("thiếu tham số bắt buộc: LỆNH",)),
    (["deadline", "Quý I/2024", "--year", "hai"], ("tham số --year: giá trị 'hai' không hợp lệ (cần một số nguyên)",)),
    (["run", "--as-of"], ("tham số --as-of: cần một giá trị đi kèm",)),
    (["run", "--as-of", "31/02/2024"], ("ngày '31/02/2024' không hợp lệ",)),
])
def test_usage_errors_in_vietnamese(tmp_path, argv, words):
    assert_vietnamese(in_process(*argv, cwd=tmp_path), 2, "cách dùng:", *words)


def test_help_headings_in_vietnamese(tmp_path):
    for argv in (["--help"], ["run", "--help"], ["plan", "import", "--help"]):
        text = assert_vietnamese(in_process(*argv, cwd=tmp_path), 0, "cách dùng:", "tùy chọn:",
                                 "in hướng dẫn này rồi thoát")
        assert text.count("tùy chọn:") == 1


@pytest.mark.parametrize("argv, code, words", [
    (["--help"], 0, ("cách dùng:", "tùy chọn:", "in hướng dẫn này rồi thoát")),
    (["rn"], 2, ("cách dùng:", "lựa chọn 'rn' không có", "có phải 'run'?")),
])
def test_the_real_entry_point_exits_with_the_commands_code(tmp_path, argv, code, words):
    """What the in-process runs above stand for: `python -m sync` itself, its exit status and its streams."""
    assert_vietnamese(sync(*argv, cwd=tmp_path), code, *words)


def test_the_real_entry_point_on_a_broken_state_file(site):
    """One state-file fault through a real process: exit 2, the message, nothing else on stderr at exit."""
    _garbage(site)
    before = site.fingerprint()
    proc = sync("run", "--as-of", AS_OF, "--config", str(site.config), cwd=site.root)
    assert_clean(proc, 2, str(site.state), "'state'", "không phải tệp SQLite", "trước khi ghi gì vào bảng tính")
    assert site.fingerprint() == before


# --- the daemon's log: figures for each action, and what comes next -------------------------------------

def test_the_daemon_says_at_start_when_it_will_act(demo_project, monkeypatch, caplog):
    import datetime as dt
    import logging

    from .test_daemon import FakeClock, _daemon
    clock = FakeClock(dt.datetime(2024, 8, 30, 18, 0))  # Friday evening before Quốc khánh (2–3 September)
    daemon = _daemon(demo_project, clock, monkeypatch)
    caplog.set_level(logging.INFO, logger="cchc.daemon")
    daemon.serve(lambda seconds: True)  # stop at the first wait
    start = next(r.getMessage() for r in caplog.records if "Lịch tới" in r.getMessage())
    assert "lượt kiểm tra từ 07:30 ngày 04/09/2024" in start               # Sat, Sun, 2/9 and 3/9 off
    assert "báo cáo 08:00 ngày 16/09/2024 (sau ngày chốt số liệu 14/09/2024)" in start
    assert "nhắc việc 08:30 ngày 09/09/2024" in start                     # Monday 2/9 is a holiday
    assert daemon.actions == []


def test_the_daemon_logs_each_action_with_its_figures(demo_project, monkeypatch, caplog, tmp_path):
    import datetime as dt
    import logging

    from .test_daemon import FakeClock, _daemon
    from .test_sending import LEADERS, configure, plan_with_emails
    configure(demo_project, plan=plan_with_emails(tmp_path))
    clock = FakeClock(dt.datetime(2024, 9, 16, 8, 0))  # Monday after Q3's cut-off
    daemon = _daemon(demo_project, clock, monkeypatch)
    caplog.set_level(logging.INFO, logger="cchc.daemon")
    daemon.sync_pass()
    daemon.report()
    daemon.remind()
    assert [a for a in daemon.actions] == [("run", 0), ("report", 0), ("remind", 0)]
    run, report, remind = [r.getMessage() for r in caplog.records if "(mã 0)" in r.getMessage()]
    assert "xong" in run and "76 dòng" in run and "quá hạn" in run and "lỗi nhập liệu" in run
    assert "Đã gửi báo cáo" in report and all(address in report for address in LEADERS)
    assert remind.count("Đã gửi thư nhắc cho") >= 1


def test_the_daemon_logs_a_failure_with_its_message(demo_project, monkeypatch, caplog):
    import datetime as dt
    import logging

    from .test_daemon import FakeClock, _daemon
    demo_project.workbook.unlink()
    clock = FakeClock(dt.datetime(2024, 9, 16, 9, 0))
    daemon = _daemon(demo_project, clock, monkeypatch)
    caplog.set_level(logging.INFO, logger="cchc.daemon")
    daemon.sync_pass()
    failed = next(r for r in caplog.records if "thất bại" in r.getMessage())
    assert failed.levelno == logging.ERROR and "(mã 2)" in failed.getMessage()
    assert str(demo_project.workbook.name) in failed.getMessage() and "init" in failed.getMessage()


@pytest.mark.parametrize("case", ["a folder", "not UTF-8"])
def test_a_settings_file_that_cannot_be_read_as_text(tmp_path, case):
    cfg = tmp_path / "s.yaml"
    if case == "a folder":
        cfg.mkdir()
        words = ("là một thư mục",)
    else:
        cfg.write_bytes("local: {path: bảng.xlsx}\n".encode("utf-16"))  # saved as "Unicode" by Notepad
        words = ("không phải văn bản UTF-8", "lưu lại với bảng mã UTF-8")
    assert_vietnamese(in_process("run", "--config", str(cfg), cwd=tmp_path), 2, str(cfg), *words)


@pytest.mark.parametrize("message", [
    "argument command: invalid choice: 'rn' (choose from 'init', 'run', 'status')",   # Python 3.11
    "argument command: invalid choice: 'rn' (choose from init, run, status)",         # Python 3.12.8+
])
def test_argparse_wordings_of_other_python_versions(message):
    from sync.core.problems import argparse_message
    text = argparse_message(message)
    assert text.startswith("tham số LỆNH: lựa chọn 'rn' không có") and "có phải 'run'?" in text
