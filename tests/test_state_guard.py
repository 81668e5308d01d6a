"""One state file per workbook, and every command checks its state file first (sync/state/store.py,
guard_state): a state file of another workbook, one lost or emptied while `Nhật ký` holds passes,
a damaged or read-only one, a row that cannot be read, or one that fails once the workbook was written, are
each named in Vietnamese with exit 2 or 3, before any workbook cell, mail or ledger is touched."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from sync.backends.local import LocalBackend
from sync.core.config import load_settings
from sync.core.plan import load_plan
from sync.state.faults import StateFileError
from sync.state.store import State
from sync.usecases.ports import Ports
from sync.usecases.run import RunRequest, run

from .conftest import AS_OF, PLAN_PATH, Project
from .test_faults_env import STATE_FAULTS
from .workbooks import col, edit, values

DAY = AS_OF.isoformat()
LEADERS = ["lanhdao@example.invalid", "sonoivu@example.invalid"]


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_mail(project: Project, **more) -> None:
    project.write_config({"mail": {"report_to": LEADERS, "from": "vp@sotttt.example.invalid",
                                   "outbox_dir": str(project.root / "outbox")},
                          "report": {"out_dir": str(project.root / "out")}, **more})


def outbox(project: Project) -> list[Path]:
    return sorted((project.root / "outbox").glob("*.eml"))


# --- one state file per workbook -----------------------------------------------------------------------------

def test_a_state_file_of_another_workbook_stops_every_command_naming_both(demo_ran_project):
    """The README's offline trial with the default `state:`: its state file then answered for the real
    workbook ("already sent", foreign history). Now each command names both workbooks and the key."""
    p = demo_ran_project
    other = p.root / "data" / "thu-nghiem.xlsx"
    shutil.copyfile(p.workbook, other)
    with_mail(p, local={"path": str(other)})
    before = fingerprint(other)
    for args in (["run", "--as-of", DAY], ["init"], ["report", "--period", "2024Q3", "--send"], ["history"],
                 ["export", "--at", DAY], ["remind", "--send", "--as-of", DAY]):
        code, out, err = p.cli(*args)
        assert code == 2, (args, out, err)
        assert "là của bảng tính khác" in err and str(p.workbook) in err and str(other) in err, err
        assert "'state'" in err and "Traceback" not in err
    assert fingerprint(other) == before and outbox(p) == []


def test_a_state_file_of_another_plan_is_refused(demo_ran_project, tmp_path):
    raw = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    raw["number"] = "99/KH-KHAC"
    plan = tmp_path / "khac.yaml"
    plan.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    demo_ran_project.write_config({"plan": str(plan)})
    code, _, err = demo_ran_project.cli("run", "--as-of", DAY)
    assert code == 2 and "99/KH-KHAC" in err and "'plan'" in err and "'state'" in err, err


def test_a_project_folder_moved_as_a_whole_keeps_its_state_file(demo_ran_project, tmp_path_factory):
    moved = tmp_path_factory.mktemp("elsewhere") / "p"
    shutil.copytree(demo_ran_project.root, moved)
    there = Project(moved, demo_ran_project.capsys)
    there.write_config({})
    code, _, err = there.cli("run", "--as-of", DAY)
    assert code == 0, err


# --- a lost state file, witnessed by Nhật ký -------------------------------------------------------------------

def _deleted(path: Path) -> None:
    path.unlink()


def _zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def _new_and_empty(path: Path) -> None:
    path.unlink()
    with State(path).connect():  # the tables, no pass: what a fresh start leaves
        pass


LOST = {"deleted": _deleted, "0 bytes": _zero_bytes, "new and empty": _new_and_empty}


@pytest.mark.parametrize("how", list(LOST))
def test_a_lost_state_file_is_noticed_by_the_log_tab_until_a_new_one_is_accepted(demo_ran_project, how):
    p = demo_ran_project
    with_mail(p)
    state = p.root / "state.sqlite"
    LOST[how](state)
    before = fingerprint(p.workbook)
    for args in (["run", "--as-of", DAY], ["report", "--period", "2024Q3", "--send"], ["init"],
                 ["remind", "--send", "--as-of", DAY]):
        code, out, err = p.cli(*args)
        assert code == 2, (args, out, err)
        assert "--new-state" in err and "'state'" in err and "Traceback" not in err, err
        assert ("0 byte" in err) if how == "0 bytes" else ("Nhật ký" in err and "1 lượt chạy" in err), err
    assert fingerprint(p.workbook) == before and outbox(p) == []
    code, _, err = p.cli("run", "--as-of", DAY, "--new-state")
    assert code == 0, err
    code, _, err = p.cli("run", "--as-of", DAY)  # the new state file now belongs to the workbook
    assert code == 0, err
    assert p.cli("report", "--period", "2024Q3", "--send")[0] == 0 and len(outbox(p)) == 2


def test_a_dry_run_and_reading_commands_need_no_new_state(demo_ran_project):
    p = demo_ran_project
    (p.root / "state.sqlite").unlink()
    assert p.cli("run", "--as-of", DAY, "--dry-run")[0] == 0
    assert p.cli("export")[0] == 0
    assert not (p.root / "state.sqlite").exists() or State(p.root / "state.sqlite").knows_nothing()


def test_two_configurations_never_share_a_message_id_or_an_outbox_file(demo_project, tmp_path_factory):
    """Two workbooks (the real one and a trial) sending into one outbox: four files, none overwritten."""
    first = demo_project
    root = tmp_path_factory.mktemp("trial")
    second = Project(root, first.capsys)
    second.workbook.parent.mkdir(parents=True)
    shutil.copyfile(first.workbook, second.workbook)
    shared = {"mail": {"report_to": LEADERS, "from": "vp@sotttt.example.invalid",
                       "outbox_dir": str(first.root / "outbox")}}
    first.write_config({**shared, "report": {"out_dir": str(first.root / "out")}})
    second.write_config({**shared, "report": {"out_dir": str(root / "out")}})
    for p in (first, second):
        code, _, err = p.cli("report", "--period", "2024Q3", "--send")
        assert code == 0, err
    import email
    ids = [email.message_from_bytes(eml.read_bytes())["Message-ID"] for eml in outbox(first)]
    assert len(outbox(first)) == 4 and len(set(ids)) == 4


# --- every command checks its state file first ---------------------------------------------------------------

def _typed_over(p: Project) -> tuple[int, int]:
    """A unit's cell changed after the pass, for `restore` to put back."""
    tab = "Theo dõi"
    status = col(p.workbook, tab, "Tình trạng")
    row = next(i + 1 for i, r in enumerate(values(p.workbook)[tab]) if i and r[status - 1] == "Đang thực hiện")
    edit(p.workbook, tab, {(row, status): "Chưa thực hiện"})
    return row, status


COMMANDS = {
    "report --send": ["report", "--period", "2024Q3", "--send"],
    "remind --send": ["remind", "--send", "--as-of", DAY],
    "restore --yes": None,  # filled in with the row it restores
    "history": ["history"],
    "export --at": ["export", "--at", DAY],
}
WRITING = {"report --send", "remind --send", "restore --yes"}


@pytest.mark.parametrize("fault", ["garbage", "damaged inside", "truncated", "read-only file", "read-only folder"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_checks_its_state_file_before_touching_anything(demo_ran_project, fault, command):
    if fault.startswith("read-only") and command not in WRITING:
        pytest.skip("reading a read-only state file is allowed")
    p = demo_ran_project
    plan = p.root / "plan.yaml"
    raw = yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))
    for unit in raw["units"]:
        unit["email"] = f"{unit['code'].lower()}@example.invalid"
    plan.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with_mail(p, plan=str(plan))
    args = COMMANDS[command]
    if args is None:
        row, _ = _typed_over(p)
        task = values(p.workbook)["Theo dõi"][row - 1][0]
        args = ["restore", "--task", str(task), "--unit", "VP", "--at", DAY, "--yes", "--force"]
    damage, words = STATE_FAULTS[fault]
    state = p.root / "st" / "state.sqlite"  # the faults need a folder of the state file's own
    state.parent.mkdir()
    shutil.move(p.root / "state.sqlite", state)
    p.write_config({**yaml.safe_load(p.config.read_text(encoding="utf-8")), "state": str(state)})
    damage(SimpleNamespace(state=state))
    before = fingerprint(p.workbook)
    try:
        code, out, err = p.cli(*args)
        assert code == 2, (out, err)
        assert str(state) in err and words in err and "Traceback" not in err, err
        assert fingerprint(p.workbook) == before and outbox(p) == []
        assert not (p.root / "out").exists() or not list((p.root / "out").glob("*.docx"))
    finally:
        state.parent.chmod(0o755)
        if state.exists():
            state.chmod(0o644)


def test_a_date_that_cannot_be_read_is_named_not_a_bug(demo_ran_project):
    p = demo_ran_project
    with sqlite3.connect(p.root / "state.sqlite") as db:
        db.execute("UPDATE history_passes SET as_of = '2024-13-45'")
    for args in (["run", "--as-of", "2024-09-21"], ["history"]):
        code, _, err = p.cli(*args)
        assert code == 2, err
        assert "history_passes" in err and "'2024-13-45'" in err and "lượt chạy số" in err, err


class _DamagedAfterWrite(LocalBackend):
    """The workbook is written, then the state file's disk fails (here: its file is overwritten)."""

    def __init__(self, path: Path, state: Path):
        super().__init__(path)
        self.state = state

    def write(self, snapshot, changes):
        written = super().write(snapshot, changes)
        self.state.write_bytes(b"khong con la SQLite " * 400)
        return written


def test_a_pass_whose_state_file_fails_after_the_write_says_what_it_wrote(demo_ran_project):
    p = demo_ran_project
    settings = load_settings(str(p.config))
    plan = load_plan(settings.plan_path())
    state_path = p.root / "state.sqlite"
    backend = _DamagedAfterWrite(p.workbook, state_path)
    state = State(state_path)
    now = dt.datetime(2024, 9, 21, 9, 0)
    with pytest.raises(StateFileError) as raised:
        run(settings, Ports.of(plan, backend, state), now, RunRequest(dt.date(2024, 9, 21)))
    text = str(raised.value)
    log = values(p.workbook)["Nhật ký"]
    pass_id = log[-1][log[0].index("Mã lượt chạy")]
    assert len(log) == 3 and pass_id and f"dòng mã {pass_id}" in text, (log[-1], text)
    assert "đã ghi xong" in text and "không cần chạy lại" in text and "'DỞ'" in text and "status" in text
