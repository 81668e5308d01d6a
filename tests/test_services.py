"""The use cases (sync/usecases/) on fakes: the send ledger's exactly-once with a fake sender, in
milliseconds, and the use cases' own rules. The real SMTP server and the real report stay in
tests/test_sending.py and tests/test_report_cycle.py, the thinner end-to-end layer."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sync.backends.memory import MemoryBackend
from sync.core.config import Settings
from sync.core.errors import StaleSnapshot, Unreachable, UserError
from sync.core.periods import Period
from sync.core.summary import Kpis
from sync.entry.daemon import Job, perform
from sync.reports.build import Figures
from sync.state.store import State
from sync.usecases.common import Lines
from sync.usecases.owed import audience, deliver, report_recipients
from sync.usecases.ports import Ports, open_ports
from sync.usecases.report import report
from sync.usecases.run import InitRequest, RunRequest, init, run
from sync.usecases.status import status

from .conftest import PLAN_PATH

LEADERS = ["lanhdao@example.invalid", "sonoivu@example.invalid", "ubnd@example.invalid"]
NOW = dt.datetime(2024, 9, 16, 8, 0)
Q3 = Period(2024, "Q3")
KPIS = Kpis(tasks=17, rows=76, done=30, in_progress=20, not_started=20, cancelled=2, unknown_status=4, not_counted=0,
            overdue=9, due_soon=3, late=2, undated=1, missing_quarterly=5, errors=6, on_time_rate=80.0)


class FakeSender:
    """Accepts every message, except for the recipients in `down` (their server is unreachable) or, with
    `crash_after`, dies (a killed process) once that many messages went."""

    def __init__(self, down: set[str] | None = None, crash_after: int | None = None):
        self.down = set(down or ())
        self.crash_after = crash_after
        self.sent: list[tuple[str, str]] = []  # (recipient, Message-ID)

    def send(self, msg) -> str:
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise Crash()
        to = str(msg["To"])
        if to in self.down:
            raise Unreachable(f"máy chủ thư không trả lời khi gửi cho {to}")
        self.sent.append((to, str(msg["Message-ID"])))
        return str(msg["Message-ID"])

    def to(self) -> list[str]:
        return [r for r, _ in self.sent]


class Crash(BaseException):
    """The process killed between two messages."""


@pytest.fixture
def site(tmp_path) -> Settings:
    return Settings.model_validate({
        "state": str(tmp_path / "state.sqlite"), "plan": str(PLAN_PATH), "local": {"path": str(tmp_path / "wb.xlsx")},
        "report": {"out_dir": str(tmp_path / "out")},
        "mail": {"report_to": LEADERS, "from": "Văn phòng Sở <vp@sotttt.example.invalid>"}})


@pytest.fixture
def docx(site) -> Path:
    from sync.reports.build import report_path
    path = report_path(site, Q3)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK not really a document")  # the sender is fake: only its name and bytes travel
    return path


def _send(site, docx, sender, force=False, state=None, lines=None) -> int:
    """Sending a built report as `report --send` does (its `audience`, then `deliver`), with a fake sender."""
    from sync.reports.build import report_path
    from sync.state.store import Witness
    state, say = state or State(site.state), (lines or Lines()).say
    witness = Witness(report_path(site, Q3), Q3.key)
    recipients = audience(site, state, Q3, witness, force, say)
    return deliver(site, state, Figures(Q3, dt.date(2024, 9, 14), KPIS, 3), [docx], NOW, force, witness, recipients,
                   lambda _mail: sender, say)


# --- the ledger: each recipient once ---------------------------------------------------------------------

def test_a_report_reaches_each_recipient_once(site, docx):
    sender = FakeSender()
    assert _send(site, docx, sender) == 3
    lines = Lines()
    assert _send(site, docx, sender, lines=lines) == 0  # a second call sends nobody
    assert sorted(sender.to()) == sorted(LEADERS)
    assert any("Không gửi lại" in line.text for line in lines.all())


def test_after_a_failure_only_the_rest_are_sent(site, docx):
    sender = FakeSender(down={LEADERS[1]})
    with pytest.raises(Unreachable) as caught:
        _send(site, docx, sender)
    assert caught.value.exit_code == 3 and LEADERS[1] in str(caught.value)
    assert sender.to() == [LEADERS[0], LEADERS[2]]  # one unreachable recipient does not stop the others
    assert State(site.state).send_status("report", Q3.key, LEADERS[1]) == "failed"
    sender.down.clear()
    assert _send(site, docx, sender) == 1
    assert sender.to() == [LEADERS[0], LEADERS[2], LEADERS[1]]


def test_a_crash_between_recipients_resends_the_interrupted_one_with_the_same_id(site, docx):
    crashing = FakeSender(crash_after=1)
    with pytest.raises(Crash):
        _send(site, docx, crashing)
    assert State(site.state).send_status("report", Q3.key, LEADERS[1]) == "sending"  # the window it left open
    sender = FakeSender()
    assert _send(site, docx, sender) == 2
    assert sender.to() == LEADERS[1:]
    from sync.mail.letters import mail_scope
    from sync.mail.mailer import message_id
    # the retry carries the id the lost attempt had: a mail store drops it if that one did arrive
    assert sender.sent[0][1] == message_id("Văn phòng Sở <vp@sotttt.example.invalid>", "report", Q3.key, LEADERS[1],
                                           scope=mail_scope(site))
    assert crashing.sent[0][1] == message_id("Văn phòng Sở <vp@sotttt.example.invalid>", "report", Q3.key,
                                             LEADERS[0], scope=mail_scope(site))


def test_a_lost_state_file_with_the_witness_present_sends_nobody_twice(site, docx):
    sender = FakeSender()
    assert _send(site, docx, sender) == 3
    Path(site.state).unlink()  # the state file is lost; the witness beside the report remains
    with pytest.raises(UserError) as caught:
        _send(site, docx, sender)
    assert caught.value.exit_code == 2 and "--force" in str(caught.value)
    assert len(sender.sent) == 3


def test_a_lost_state_file_still_sends_to_a_new_recipient_only(site, docx):
    sender = FakeSender()
    assert _send(site, docx, sender) == 3
    Path(site.state).unlink()
    site.mail.report_to = [*LEADERS, "moi@example.invalid"]
    lines = Lines()
    assert _send(site, docx, sender, lines=lines) == 1
    assert sender.to()[3:] == ["moi@example.invalid"]
    assert any("tệp ghi nhận" in line.text for line in lines.all())


def test_force_sends_everyone_again_with_new_ids(site, docx):
    sender = FakeSender()
    _send(site, docx, sender)
    first = {mid for _, mid in sender.sent}
    assert _send(site, docx, sender, force=True) == 3
    assert sorted(sender.to()[3:]) == sorted(LEADERS)
    assert not first & {mid for _, mid in sender.sent[3:]}
    Path(site.state).unlink()  # with the witness only, --force still goes to everyone
    assert _send(site, docx, sender, force=True) == 3


def test_no_recipients_is_exit_2_before_anything_is_sent(site, docx):
    site.mail.report_to = []
    sender = FakeSender()
    with pytest.raises(UserError) as caught:
        _send(site, docx, sender)
    assert caught.value.exit_code == 2 and "mail.report_to" in str(caught.value) and sender.sent == []


def test_report_recipients_is_pure():
    everyone = report_recipients(LEADERS, [], [], force=False)
    assert everyone.to is None and not everyone.refused
    some = report_recipients(LEADERS, [], [LEADERS[0]], force=False)
    assert some.to == LEADERS[1:] and not some.refused
    done = report_recipients(LEADERS[:1], [], [LEADERS[0]], force=False)
    assert done.to == [] and done.refused
    assert report_recipients(LEADERS, [], LEADERS, force=True).to is None


# --- init, status, run: the use cases' rules ----------------------------------------------------------------

class MovingBackend(MemoryBackend):
    """A workbook someone changes between our read and our write."""

    def write(self, snapshot, changes):
        raise StaleSnapshot("bảng tính vừa được sửa")


def test_a_workbook_moved_under_init_is_exit_3_and_recorded(site, plan):
    state = State(site.state)
    with pytest.raises(Unreachable) as caught:
        init(site, Ports.of(plan, MovingBackend(), state), NOW)
    assert caught.value.exit_code == 3 and "init" in str(caught.value)
    [failed] = state.passes(5)
    assert failed["command"] == "init" and not failed["ok"] and "bảng tính vừa được sửa" in failed["message"]


def test_init_then_a_pass_on_the_memory_backend(site, plan):
    state, backend = State(site.state), MemoryBackend()
    done = init(site, Ports.of(plan, backend, state), NOW)
    assert not done.skipped and done.cells_written > 0 and "Đã khởi tạo" in done.lines[-1].text
    again = init(site, Ports.of(plan, backend, state), NOW, InitRequest(if_missing=True))
    assert again.skipped and "bỏ qua khởi tạo" in again.lines[0].text
    ran = run(site, Ports.of(plan, backend, state), NOW)
    assert ran.exit_code == 0 and ran.summary["written"] and ran.summary["as_of"] == "2024-09-16"
    assert ran.text[0].startswith("Tính đến 16/09/2024:")


def test_a_pass_dated_in_the_future_is_refused_before_the_state_file_is_touched(site, plan):
    with pytest.raises(UserError) as caught:
        run(site, open_ports(site), NOW, RunRequest(as_of=dt.date(2024, 9, 17)))
    assert caught.value.exit_code == 2 and "tương lai" in str(caught.value)
    assert not Path(site.state).exists()


def test_status_counts_an_address_refused_then_sent_retyped_as_done(site, plan):
    """The ledger keeps an address as typed: refused as "LĐ <LanhDao@…>", then sent once the Office retyped it
    as "lanhdao@…", it is neither unsent nor refused any more."""
    from sync.mail.mailer import REFUSED
    state = State(site.state)
    state.begin_send("report", Q3.key, "LĐ <LanhDao@example.invalid>", NOW)
    state.end_send("report", Q3.key, "LĐ <LanhDao@example.invalid>", NOW, error=f"{REFUSED}: 550 No such user")
    state.begin_send("report", Q3.key, "sonoivu@example.invalid", NOW)
    state.end_send("report", Q3.key, "sonoivu@example.invalid", NOW, error=f"{REFUSED}: 550 No such user")
    ports = Ports.of(plan, MemoryBackend(), state)
    before = status(site, ports, NOW)
    assert before.unsent == 2 and len(before.refused) == 2
    state.begin_send("report", Q3.key, "lanhdao@example.invalid", NOW)
    state.end_send("report", Q3.key, "lanhdao@example.invalid", NOW, message_id="<x@example.invalid>")
    after = status(site, ports, NOW)
    assert after.unsent == 1 and after.refused == ("sonoivu@example.invalid",)


def test_status_is_stale_without_a_good_pass_and_fresh_after_one(site, plan):
    state = State(site.state)
    backend = MemoryBackend()
    ports = Ports.of(plan, backend, state)
    assert status(site, ports, NOW).exit_code == 4
    init(site, ports, NOW)
    run(site, ports, NOW)
    fresh = status(site, ports, NOW + dt.timedelta(hours=1))
    assert fresh.exit_code == 0 and not fresh.stale and fresh.age_hours == pytest.approx(1.0)
    late = status(site, ports, NOW + dt.timedelta(hours=site.status.max_age_hours + 1))
    assert late.exit_code == 4 and late.stale and any("CẢNH BÁO" in t for t in late.text)


# --- what the daemon calls -----------------------------------------------------------------------------------

def test_perform_turns_a_failure_into_its_exit_code_and_message(site):
    outcome = perform(lambda: site, Job("run", as_of=NOW.date()), lambda: NOW)
    assert outcome.exit_code == 2 and any("Lỗi:" in line for line in outcome.lines)

    def broken() -> Settings:
        raise RuntimeError("disk full")
    bug = perform(broken, Job("run"), lambda: NOW)
    # a bug is named by its type and place, never by its arguments (they may hold a secret)
    assert bug.exit_code == 1 and len(bug.lines) == 2 and "disk full" not in "".join(bug.lines)
    assert bug.lines[0].startswith("Lỗi trong chương trình (xin báo cho người phát triển): RuntimeError "
                                   "(sync/entry/daemon.py, dòng ")
    assert bug.lines[1] == "Chạy lại với biến môi trường CCHC_DEBUG=1 để xem chi tiết."


def test_a_job_reads_as_its_command_line():
    assert Job("report", period="2024Q3", send=True, issued=dt.date(2024, 9, 16)).argv() == \
        ["report", "--period", "2024Q3", "--send", "--date", "2024-09-16"]
    assert Job("remind", send=True, as_of=dt.date(2024, 9, 16)).argv() == ["remind", "--send", "--as-of", "2024-09-16"]


def test_a_report_is_not_sent_on_its_own_cut_off_day(site, plan):
    """Its figures are "tính đến" the cut-off, a day not over yet: units may still type; nothing is built or
    sent, and the message says from when it can go."""
    from sync.usecases.report import ReportRequest
    state, backend = State(site.state), MemoryBackend()
    init(site, Ports.of(plan, backend, state), NOW)
    cutoff_day = dt.datetime(2024, 9, 14, 16, 0)
    with pytest.raises(UserError) as caught:
        report(site, Ports.of(plan, backend, state), cutoff_day, ReportRequest("2024Q3", send=True))
    assert caught.value.exit_code == 2 and "15/09/2024" in str(caught.value)
    out = Path(site.report.out_dir)
    assert not out.exists() or not list(out.glob("*.docx"))
