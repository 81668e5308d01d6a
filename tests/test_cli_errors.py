"""Bad input: a clear Vietnamese message naming the file, tab, header or key, exit 2, never a traceback."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

from sync.core.config import PROJECT_DIR

from .conftest import Project
from .workbooks import col


def test_missing_workbook(project):
    code, _, err = project.cli("run")
    assert code == 2 and str(project.workbook) in err and "init" in err


def test_not_an_xlsx(project):
    project.workbook.parent.mkdir(parents=True)
    project.workbook.write_text("STT;Nhiệm vụ\n1;x\n", encoding="utf-8")
    code, _, err = project.cli("run")
    assert code == 2 and ".xlsx" in err and str(project.workbook) in err


def test_missing_tab(inited_project):
    project = inited_project
    wb = openpyxl.load_workbook(project.workbook)
    wb["Theo dõi"].title = "Theo doi cu"
    wb.save(project.workbook)
    code, _, err = project.cli("run")
    assert code == 2 and "'Theo dõi'" in err and "Theo doi cu" in err


def test_missing_header_names_the_closest(inited_project):
    project = inited_project
    wb = openpyxl.load_workbook(project.workbook)
    wb["Theo dõi"].cell(row=1, column=col(project.workbook, "Theo dõi", "Tình trạng")).value = "Tình trạng thực hiện"
    wb.save(project.workbook)
    code, _, err = project.cli("run")
    assert code == 2 and "'Tình trạng'" in err and "'Tình trạng thực hiện'" in err and "Theo dõi" in err


def test_headers_match_whatever_the_order_and_spelling(inited_project):
    project = inited_project
    wb = openpyxl.load_workbook(project.workbook)
    ws = wb["Theo dõi"]
    ws.cell(row=1, column=col(project.workbook, "Theo dõi", "Tình trạng")).value = "TINH TRANG"
    ws.move_range("A1:A77", cols=20)  # STT moved to the far right
    wb.save(project.workbook)
    summary = project.run_json()
    assert summary["rows"] == 76 and summary["errors"] == 0


def test_bad_yaml(project):
    project.config.write_text("backend: local\nlocal: {path: [unclosed\n", encoding="utf-8")
    code, _, err = project.cli("run")
    assert code == 2 and str(project.config) in err and "dòng" in err


def test_unknown_config_key_with_suggestion(project):
    project.config.write_text("backend: local\nmail:\n  smtp:\n    prot: 25\n", encoding="utf-8")
    code, _, err = project.cli("run")
    assert code == 2 and "mail.smtp.prot" in err and "'port'" in err


def test_bad_config_value(project):
    project.config.write_text("backend: excel\ndeadlines: {due_soon_days: -1}\n", encoding="utf-8")
    code, _, err = project.cli("run")
    assert code == 2 and "'backend'" in err and "deadlines.due_soon_days" in err


def test_missing_config_file(project, capsys):
    from sync.entry.cli import main
    assert main(["run", "--config", str(project.root / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_bad_usage(project):
    code, _, err = project.cli("run", "--as-of", "20/13/2024")
    assert code == 2 and "20/13/2024" in err and "--as-of" in err and "dd/mm/yyyy" in err


def test_a_day_in_either_form_is_the_same_day(inited_project):
    """The command line reads days with the core's date reader: ISO or the Vietnamese dd/mm/yyyy."""
    project = inited_project
    iso = project.run_json(dt.date(2024, 9, 20), "--dry-run")
    code, out, err = project.cli("run", "--as-of", "20/09/2024", "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["as_of"] == iso["as_of"] == "2024-09-20"


def test_a_workbook_changed_during_init_is_exit_3_not_a_bug(project, monkeypatch):
    from sync.backends.local import LocalBackend
    from sync.core.errors import StaleSnapshot

    def moved(self, snapshot, changes):
        raise StaleSnapshot("bảng tính vừa được sửa")
    monkeypatch.setattr(LocalBackend, "write", moved)
    code, _, err = project.cli("init")
    assert code == 3 and "bảng tính vừa được sửa" in err and "python -m sync init" in err
    assert "Lỗi trong chương trình" not in err


def test_real_process_has_no_traceback(tmp_path):
    """The real entry point, as cron runs it."""
    (tmp_path / "s.yaml").write_text("local: {path: missing.xlsx}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    proc = subprocess.run([sys.executable, "-m", "sync", "run", "--config", str(tmp_path / "s.yaml")],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "missing.xlsx" in proc.stderr


def test_config_from_environment(project, monkeypatch):
    monkeypatch.setenv("CCHC_CONFIG", str(project.config))
    from sync.entry.cli import main
    assert main(["init"]) == 0
    assert project.workbook.exists()


def test_status_reports_and_alerts(project):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from sync.state.store import State
    code, out, _ = project.cli("status")
    assert code == 4 and "Chưa có" in out  # no good pass yet: stale
    state = State(project.root / "state.sqlite")
    now = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    state.record_pass("run", now - dt.timedelta(hours=30), True, {"rows": 76, "as_of": "2024-09-20"})
    code, out, _ = project.cli("status")
    assert code == 4 and "30.0 giờ" in out
    state.record_pass("run", now - dt.timedelta(hours=1), False, {}, "không kết nối được")
    assert project.cli("status")[0] == 4  # a failed pass is not a good pass
    project.cli("init")
    project.run_json()
    code, out, _ = project.cli("status")
    assert code == 0 and "LỖI" in out and "không kết nối được" in out


def test_renamed_tabs_and_headers_from_config(project):
    project.write_config({"tabs": {"tracking": "Theo dõi 2024"}, "headers": {"status": "Trạng thái"}})
    assert project.cli("init")[0] == 0
    wb = openpyxl.load_workbook(project.workbook)
    assert "Theo dõi 2024" in wb.sheetnames and "Trạng thái" in [c.value for c in wb["Theo dõi 2024"][1]]
    assert project.run_json()["rows"] == 76


def test_unknown_header_key_is_named(project):
    project.write_config({"headers": {"statuz": "X"}})
    code, _, err = project.cli("run")
    assert code == 2 and "headers.statuz" in err


@pytest.mark.parametrize("header", ["", "   "])
def test_an_empty_header_name_is_the_configs_fault_not_the_workbooks(project, header):
    """It was blamed on the workbook ("thiếu cột ''" in Theo dõi); found by the hostile tester."""
    project.write_config({"headers": {"status": header}})
    code, _, err = project.cli("run")
    assert code == 2 and "headers.status" in err and "để trống" in err and "Theo dõi" not in err


def test_the_example_config_documents_every_key():
    """settings.example.yaml is the Office's reference: every key the program reads appears in it."""
    from pydantic import BaseModel

    from sync.core.config import PROJECT_DIR, Settings
    raw = yaml.safe_load((PROJECT_DIR / "config/settings.example.yaml").read_text(encoding="utf-8"))

    def missing(model: type[BaseModel], data: dict, prefix: str) -> list[str]:
        out = []
        for name, field in model.model_fields.items():
            if field.exclude:
                continue
            key = field.alias or name
            if key not in data:
                out.append(prefix + key)
            elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                out += missing(field.annotation, data[key] or {}, f"{prefix}{key}.")
        return out

    assert missing(Settings, raw, "") == []


def test_a_writing_pass_dated_in_the_future_is_refused(inited_project):
    """A mistyped --as-of (2042) would stop history from recording until then: refused; a dry run may look."""
    project = inited_project
    code, _out, err = project.cli("run", "--as-of", "2042-09-20")
    assert code == 2 and "20/09/2042" in err and "--dry-run" in err
    assert project.cli("run", "--as-of", "2042-09-20", "--dry-run")[0] == 0


def test_an_unknown_time_zone_is_exit_2_naming_the_key(project):
    project.write_config({"timezone": "Mars/Olympus"})
    code, _out, err = project.cli("status")
    assert code == 2 and "'timezone'" in err and "Mars/Olympus" in err and "Asia/Ho_Chi_Minh" in err


def test_report_send_without_recipients_stops_before_building_anything(demo_project):
    code, _out, err = demo_project.cli("report", "--period", "2024Q1", "--send")
    assert code == 2 and "'mail.report_to'" in err
    assert not (demo_project.root / "reports").exists()  # no .docx, annex or figures file left behind


@pytest.fixture(scope="module")
def passed_template(inited_template, tmp_path_factory) -> Path:
    """A folder after `init` and one pass (as of 2024-09-20), made once per module: its workbook and state file
    are copied for each test that needs a pass in the log."""
    root = tmp_path_factory.mktemp("passed-template")
    template = Project(inited_template, None).copy_to(Project(root, None))
    code, _out, err = template.quiet_cli("run", "--as-of", "2024-09-20")
    assert code == 0, err
    return root


@pytest.fixture
def passed_project(project, passed_template):
    """A project after `init` and one pass as of 2024-09-20 (the template's files, copied)."""
    return Project(passed_template, None).copy_to(project)


@pytest.mark.parametrize("column, value", [("summary", "{bad"), ("started_at", "garbage"),
                                           ("started_at", "2099-01-01T00:00:00+07:00")])
def test_status_with_a_pass_row_damaged_by_hand_is_exit_2_not_a_bug(passed_project, column, value):
    import sqlite3
    p = passed_project
    with sqlite3.connect(p.root / "state.sqlite") as db:
        db.execute(f"UPDATE passes SET {column} = ? WHERE command = 'run'", (value,))
    for args in (("status",), ("status", "--json")):
        code, _, err = p.cli(*args)
        assert code != 1 and "Lỗi trong chương trình" not in err, (args, err)
    code, out, err = p.cli("status")
    if column == "started_at":  # no age can be told: the state file is the Office's to repair
        assert code == 2 and value in err and "state.sqlite" in err
    else:  # the pass stands without its figures
        assert code == 0 and "run" in out


def test_a_recipient_that_is_not_an_address_is_said_at_config_time(project):
    project.write_config({"mail": {"report_to": ["Lãnh đạo Sở <lanhdao@example.invalid>", "not an address"]}})
    code, _, err = project.cli("status")
    assert code == 2 and "mail.report_to" in err and "not an address" in err


@pytest.mark.parametrize("name", ["wb.csv", "wb.xlsm", "wb"])
def test_a_workbook_path_that_is_no_xlsx_is_refused_naming_the_key(project, name):
    """An .xlsx was written under any name (found by the hostile tester); a macro workbook would lose its macros."""
    project.write_config({"local": {"path": str(project.root / name)}})
    code, _, err = project.cli("init")
    assert code == 2 and "local.path" in err and ".xlsx" in err and name in err
    assert not (project.root / name).exists()


def test_a_google_users_unused_local_path_is_not_checked(project):
    from sync.core.config import load_settings
    project.write_config({"backend": "google", "local": {"path": "data/cu.xls"},
                          "google": {"spreadsheet_id": "1abc"}})
    assert load_settings(str(project.config)).local.path.name == "cu.xls"
