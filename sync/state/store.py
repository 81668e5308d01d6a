"""The state file (one SQLite database): the pass log, the send ledger, and the history of `Theo dõi`
(its tables are in sync/state/history.py), and its identity (its faults, told as messages the Office can act on,
are in sync/state/faults.py): one state file per workbook, with the witnesses the workbook and the report folder keep.

SQLite because it is one file, transactional and in the standard library; every write here is one
transaction, so a crash leaves either the old or the new record, never half of one.

Identity. One state file per workbook: which workbook and plan a state file belongs to, and the workbook's own
witness of the passes it has seen.

A state file is the memory of one workbook (its history, its send ledger). Used with another workbook it
answers wrongly ("the report was already sent", a history of foreign rows), and a state file lost or
replaced by an empty one forgets what was sent. So the state file records, on first use, the identity of
its workbook (the spreadsheet id, or the workbook file as seen from the state file's folder, so that a
project folder copied or moved as a whole keeps it) and of its plan; a command whose configuration names
another stops (exit 2) naming both. The workbook's `Nhật ký` is the second witness: its lines carry the
pass ids, so a state file that knows nothing while `Nhật ký` holds passes has been lost or replaced, and
nothing is written until it is restored or a new one is accepted (`--new-state`).

The report e-mails have their second witness too (`Witness`): the send ledger in the state file says who has
received a period's report; if that file is lost (deleted, restored from an old backup, a new machine), the
ledger forgets and `report --send` would mail everyone again. The witness is a JSON file next to the report in
`report.out_dir` (`<report>.da-gui.json`), rewritten atomically after each recipient's message is accepted; a
send the witness knows and the ledger does not is refused until `--force`.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypedDict, cast

from sync import files
from sync.core.errors import NEW_STATE, SyncError, UserError
from sync.core.products import DEFAULT_KINDS
from sync.core.schema import Layout, bare_address
from sync.core.workbook import Snapshot, id_column
from sync.state.faults import (
    KEY,
    StateFileBusy,
    StateFileError,
    check_intact,
    check_readable,
    check_writable,
    directory,
    emptied,
    explain,
)

#: One transaction of the state file, handed to a use case's record callback (it writes through the store).
Transaction = sqlite3.Connection


SCHEMA = """
CREATE TABLE IF NOT EXISTS passes (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    as_of TEXT,
    backend TEXT,
    ok INTEGER NOT NULL,
    dry_run INTEGER NOT NULL DEFAULT 0,
    rows INTEGER, errors INTEGER, overdue INTEGER, emails_sent INTEGER DEFAULT 0,
    duration_s REAL, attempts INTEGER,
    summary TEXT,                -- compact (see `pack_summary`); files of v1 hold the whole JSON object
    message TEXT
);
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,          -- report | reminder
    period TEXT NOT NULL,        -- 2024Q1, or the reminder's unit and date
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,        -- sending | sent | failed
    attempted_at TEXT NOT NULL,
    sent_at TEXT,
    message_id TEXT,
    error TEXT,
    logged INTEGER NOT NULL DEFAULT 0,  -- counted in a pass's Nhật ký line
    UNIQUE (kind, period, recipient)
);
"""


class PassRow(TypedDict):
    """A row of `passes`, as callers read it (`summary` the JSON object it recorded, see `_with_summary`)."""

    id: int
    command: str
    started_at: str
    as_of: str | None
    backend: str | None
    ok: int
    dry_run: int
    rows: int | None
    errors: int | None
    overdue: int | None
    emails_sent: int | None
    duration_s: float | None
    attempts: int | None
    summary: str | None
    message: str | None


class SendRow(TypedDict):
    """A row of the send ledger `sends`."""

    id: int
    kind: str
    period: str
    recipient: str
    status: str
    attempted_at: str
    sent_at: str | None
    message_id: str | None
    error: str | None
    logged: int


#: The summary keys of a pass, in the order `pack_summary` stores their values. A year of hourly passes keeps
#: 8,760 summaries: as a JSON object each was ~520 bytes; as values in this order, ~80 (keys stored in
#: their own columns are not repeated, and a key outside this list is kept by name).
PACKED = ("tasks", "rows", "done", "in_progress", "not_started", "cancelled", "unknown_status", "not_counted",
          "overdue", "due_soon", "late", "undated", "missing_quarterly", "errors", "on_time_rate", "pass_id",
          "cells_written", "cells_withheld", "api_calls", "read_s", "compute_s", "write_s", "written", "source",
          "products",
          # added with the task figures (sync.core.tasks): last, so that the records written before still read
          "tasks_done", "tasks_in_progress", "tasks_not_started", "tasks_cancelled", "tasks_late")
#: Summary keys kept in the pass row's own columns (column name, summary key).
COLUMNS = (("as_of", "as_of"), ("backend", "backend"), ("dry_run", "dry_run"), ("rows", "rows"),
           ("errors", "errors"), ("overdue", "overdue"), ("emails_sent", "emails_sent"),
           ("duration_s", "duration_s"), ("attempts", "attempts"))
_IN_COLUMNS = {"as_of", "backend", "dry_run", "errors", "overdue", "emails_sent", "duration_s", "attempts"}


#: The labels of the default kinds of products (sync.core.products), whose counts a summary stores without them.
_PRODUCT_LABELS = [kind.label for kind in DEFAULT_KINDS]


def pack_summary(summary: Mapping[str, object]) -> str:
    """The summary as a JSON array: the values of `PACKED` in order (trailing absent ones left out), then an
    object of any other key not kept in a column, then the places of absent keys; or the whole object
    without spaces when that is shorter. `unpack_summary` gives back the object."""
    values = [_pack_products(summary[key]) if key == "products" and key in summary else summary.get(key)
              for key in PACKED]
    missing = [i for i, key in enumerate(PACKED) if key not in summary]
    while values and values[-1] is None and len(values) - 1 in missing:
        values.pop()
    rest = {k: v for k, v in summary.items() if k not in PACKED and k not in _IN_COLUMNS}
    if isinstance(products := rest.get("products"), dict) and list(products) == _PRODUCT_LABELS:
        rest["products"] = list(products.values())  # the default kinds, in order: their counts alone
    absent = [i for i in missing if i < len(values)]
    tail: list[object] = [rest] if rest or absent else []
    if absent:
        tail.append(absent)
    packed = json.dumps([*values, *tail] if tail else values, ensure_ascii=False, separators=(",", ":"), default=str)
    whole = json.dumps(summary, ensure_ascii=False, separators=(",", ":"), default=str)
    return whole if len(whole) <= len(packed) else packed  # a sparse summary (init's) is shorter by name


DEFAULT_LABELS = tuple(k.label for k in DEFAULT_KINDS)


def _pack_products(products: object) -> object:
    """Products by kind (label → count) as one text: the counts alone, in order, when the kinds are the default
    ones ("908,424,0,366,0,0"), else the object as JSON. A text, never a list or an object, so that it cannot be
    taken for the packed array's tail (the absent places, the other keys) when it is the last value."""
    if isinstance(products, dict) and tuple(products) == DEFAULT_LABELS:
        return ",".join(str(n) for n in products.values())
    return json.dumps(products, ensure_ascii=False, separators=(",", ":"), default=str)


def _unpack_products(packed: object) -> object:
    if not isinstance(packed, str):
        return packed
    if packed.startswith(("{", "[", '"')) or packed in ("null", "true", "false"):
        return json.loads(packed)
    return dict(zip(DEFAULT_LABELS, (int(n) for n in packed.split(",") if n), strict=False))


def unpack_summary(text: str | None, row: Mapping[str, object] | None = None) -> dict[str, object]:
    """The summary object a pass recorded, from its packed text (or the whole JSON object of v1 files) and
    the pass row's columns."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:  # damaged by hand or by a disk: the pass row stands, without its figures
        return {"damaged_summary": text[:80]}
    if isinstance(data, dict):
        return data
    rest: dict[str, object] = {}
    absent: set[int] = set()
    values = data
    if values and isinstance(values[-1], list):
        absent, values = set(values[-1]), values[:-1]
    if len(values) > len(PACKED) or (values and isinstance(values[-1], dict)):
        rest, values = values[-1], values[:-1]
    out = {key: value for i, (key, value) in enumerate(zip(PACKED, values, strict=False)) if i not in absent}
    if "products" in out:
        try:
            out["products"] = _unpack_products(out["products"])
        except ValueError:  # damaged by hand: the pass's other figures stand
            out["products"] = {}
    for column, key in COLUMNS:
        if row is not None and key not in out and row.get(column) is not None:
            out[key] = bool(row[column]) if key == "dry_run" else row[column]
    if isinstance(counts := rest.get("products"), list):
        rest["products"] = dict(zip(_PRODUCT_LABELS, counts, strict=False))
    out.update(rest)
    return out


#: The message of a pass that began and has not ended (still running, or killed).
STARTED = "chưa xong: đang chạy, hoặc đã bị ngắt giữa chừng"


def _with_summary(found: sqlite3.Row) -> PassRow:
    """A pass row as callers read it: its summary the JSON object it recorded, whatever the storage."""
    row = cast(PassRow, dict(found))  # SQLite's rows are untyped: the columns of SCHEMA's `passes`
    if row["summary"]:
        row["summary"] = json.dumps(unpack_summary(row["summary"], row), ensure_ascii=False, default=str)
    return row


class State:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._ready = False  # tables created / upgraded by this instance's first connection

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction; a fault of the file becomes the Office's message (exit 2 or 3)."""
        try:
            with self._open() as db:
                yield db
        except (sqlite3.Error, OSError) as exc:
            fault = explain(exc, self.path)
            if fault is None:
                raise
            raise fault from exc

    @contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.row_factory = sqlite3.Row
            if not self._ready:
                db.executescript(SCHEMA)
                if "logged" not in {r["name"] for r in db.execute("PRAGMA table_info(sends)")}:  # files of v1
                    db.execute("ALTER TABLE sends ADD COLUMN logged INTEGER NOT NULL DEFAULT 0")
                db.execute("DROP TABLE IF EXISTS cell_history")  # v1 kept the job's own cells; nothing read it
                self._ready = True
            with db:
                yield db

    def begin_pass(self, command: str, started_at: dt.datetime, accept_new: bool = False) -> int:
        """Before a pass touches the workbook: prove the state file takes its record (a 'started' row).

        A state file that is damaged, read-only or a folder fails here (exit 2), so the workbook never
        gains a log line for a pass that could not be recorded. The row is completed by `record_pass`
        (started_row=…); a pass killed meanwhile stays visible in `status` as unfinished."""
        try:
            self.check(write=True, accept_new=accept_new)
            with self.connect() as db:
                return _inserted(db.execute("INSERT INTO passes (command, started_at, ok, message) VALUES (?,?,0,?)",
                                            (command, started_at.isoformat(timespec="seconds"), STARTED)))
        except (StateFileError, StateFileBusy) as exc:
            raise type(exc)(f"{exc} Lượt chạy dừng trước khi ghi gì vào bảng tính.") from exc

    def check(self, write: bool, accept_new: bool = False) -> None:
        """Before a command touches a workbook cell, a mail or the ledger: the state file can be read (and, to
        `write`, written) and is whole. A damaged, truncated, unreadable or read-only file is exit 2, a busy one
        or a failing disk exit 3. A file of 0 bytes is a state file cut to nothing (SQLite would silently take
        it as new: history and ledger gone), refused unless `accept_new`."""
        if write:
            check_writable(self.path)
        elif self.path.is_dir():
            raise directory(self.path)
        if not self.path.exists():
            return
        check_readable(self.path)
        if self.path.stat().st_size == 0 and not accept_new:
            raise emptied(self.path)
        if self.path.stat().st_size:
            with self.connect() as db:
                check_intact(db, self.path)

    def identity(self) -> dict[str, str]:
        """What the state file recorded of its workbook and plan ({} before its first recording)."""
        if not self.path.exists() or not self.path.stat().st_size:
            return {}
        with self.connect() as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
                return {}
            return {r["key"]: r["value"] for r in db.execute("SELECT key, value FROM meta")}

    def adopt(self, identity: dict[str, str]) -> None:
        """Record the workbook and plan this state file belongs to, where not recorded yet (first use; a
        file of an older version adopts the workbook it is used with)."""
        with self.connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", list(identity.items()))

    def knows_nothing(self) -> bool:
        """True for a state file that is new, empty or 0 bytes: no workbook recorded, no pass that ended well,
        no send. (A failed or unfinished pass does not count: it proves nothing of the workbook's past.)"""
        if not self.path.exists() or not self.path.stat().st_size:
            return True
        if self.identity():
            return False
        with self.connect() as db:
            return (db.execute("SELECT 1 FROM passes WHERE ok = 1 LIMIT 1").fetchone() is None
                    and db.execute("SELECT 1 FROM sends LIMIT 1").fetchone() is None)

    def problem(self) -> Exception | None:
        """Why the next pass could not be recorded (for `status`), or None."""
        try:
            self.check(write=True)
        except SyncError as exc:
            return exc
        return None

    def record_pass(self, command: str, started_at: dt.datetime, ok: bool, summary: Mapping[str, object] | None = None,
                    message: str = "", then: Callable[[sqlite3.Connection, int], object] | None = None,
                    started_row: int | None = None) -> int:
        """Log a pass, completing its `begin_pass` row when given; `then(db, row id)` runs in the same
        transaction (history records the pass's cells)."""
        s = summary or {}
        with self.connect() as db:
            cur = db.execute(  # started_row: completes the row of begin_pass
                "INSERT OR REPLACE INTO passes (id, command, started_at, as_of, backend, ok, dry_run, rows, errors,"
                " overdue, emails_sent, duration_s, attempts, summary, message)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (started_row, command, started_at.isoformat(timespec="seconds"), s.get("as_of"), s.get("backend"),
                 int(ok),
                 int(bool(s.get("dry_run"))), s.get("rows"), s.get("errors"), s.get("overdue"),
                 s.get("emails_sent", 0), s.get("duration_s"), s.get("attempts"),
                 pack_summary(s) if s else None, message))
            row_id = _inserted(cur)
            if then is not None:
                then(db, row_id)
            return row_id

    def passes(self, limit: int = 10) -> list[PassRow]:
        if not self.path.exists():
            return []
        with self.connect() as db:
            rows = db.execute("SELECT * FROM passes ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_with_summary(r) for r in rows]

    def last_good_pass(self) -> PassRow | None:
        if not self.path.exists():
            return None
        with self.connect() as db:
            row = db.execute("SELECT * FROM passes WHERE ok = 1 AND dry_run = 0 AND command = 'run' "
                             "ORDER BY id DESC LIMIT 1").fetchone()
        return _with_summary(row) if row else None

    # --- the send ledger: one row per (kind, period, recipient) -------------------------------------------

    def send_status(self, kind: str, period: str, recipient: str) -> str | None:
        with self.connect() as db:
            row = db.execute("SELECT status FROM sends WHERE kind = ? AND period = ? AND recipient = ?",
                             (kind, period, recipient)).fetchone()
        return row["status"] if row else None

    def sent_to(self, kind: str, period: str) -> list[str]:
        if not self.path.exists():
            return []
        with self.connect() as db:
            rows = db.execute("SELECT recipient FROM sends WHERE kind = ? AND period = ? AND status = 'sent' "
                              "ORDER BY id", (kind, period)).fetchall()
        return [r["recipient"] for r in rows]

    def begin_send(self, kind: str, period: str, recipient: str, now: dt.datetime) -> None:
        """Written (and committed) before the message leaves: a crash mid-send leaves 'sending', never 'sent'."""
        check_writable(self.path)
        with self.connect() as db:
            db.execute("INSERT INTO sends (kind, period, recipient, status, attempted_at) VALUES (?,?,?,'sending',?)"
                       " ON CONFLICT (kind, period, recipient) DO UPDATE SET status = 'sending',"
                       " attempted_at = excluded.attempted_at, error = NULL",
                       (kind, period, recipient, now.isoformat(timespec="seconds")))

    def end_send(self, kind: str, period: str, recipient: str, now: dt.datetime, message_id: str | None = None,
                 error: str | None = None) -> None:
        with self.connect() as db:
            if error is None:
                db.execute("UPDATE sends SET status = 'sent', sent_at = ?, message_id = ?, error = NULL, logged = 0 "
                           "WHERE kind = ? AND period = ? AND recipient = ?",
                           (now.isoformat(timespec="seconds"), message_id, kind, period, recipient))
            else:
                db.execute("UPDATE sends SET status = 'failed', error = ? WHERE kind = ? AND period = ? "
                           "AND recipient = ?", (error, kind, period, recipient))

    def last_sent(self, kind: str, period_prefix: str) -> SendRow | None:
        """The newest successful send whose period starts with `period_prefix` (reminders: 'VP/')."""
        if not self.path.exists():
            return None
        with self.connect() as db:
            row = db.execute("SELECT * FROM sends WHERE kind = ? AND status = 'sent' AND substr(period, 1, ?) = ? "
                             "ORDER BY period DESC LIMIT 1", (kind, len(period_prefix), period_prefix)).fetchone()
        return _send_row(row) if row else None

    def sends(self, limit: int = 20) -> list[SendRow]:
        if not self.path.exists():
            return []
        with self.connect() as db:
            rows = db.execute("SELECT * FROM sends ORDER BY COALESCE(sent_at, attempted_at) DESC, id DESC LIMIT ?",
                              (limit,)).fetchall()
        return [_send_row(r) for r in rows]

    def unlogged_sends(self) -> int:
        """E-mails delivered since the last pass's log line: what the next line reports."""
        if not self.path.exists():
            return 0
        with self.connect() as db:
            found = db.execute("SELECT COUNT(*) AS n FROM sends WHERE status = 'sent' AND logged = 0").fetchone()
        return int(found["n"])

    def mark_logged(self, db: sqlite3.Connection | None = None) -> None:
        """The e-mails sent so far are counted in a pass's line; in `db`'s transaction when given (the pass's)."""
        if db is not None:
            db.execute("UPDATE sends SET logged = 1 WHERE status = 'sent' AND logged = 0")
            return
        with self.connect() as own:
            self.mark_logged(own)


def _send_row(found: sqlite3.Row) -> SendRow:
    return cast(SendRow, dict(found))  # SQLite's rows are untyped: the columns of SCHEMA's `sends`


def _inserted(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just added (SQLite gives one to every inserted row)."""
    assert cur.lastrowid is not None
    return cur.lastrowid


WORKBOOK, PLAN = "workbook", "plan"


class StateMismatch(UserError):
    """The state file belongs to another workbook or plan, or has forgotten this workbook's passes. Exit 2.
    (Not a fault of the file itself: the refused command is recorded in it, for `status`.)"""


def workbook_of(backend: str, spreadsheet_id: str | None, workbook: Path, state: Path) -> str:
    """The workbook as a state file records it."""
    if backend == "google":
        return f"google:{spreadsheet_id}"
    here = Path(os.path.realpath(state)).parent  # a link is the file it points to (the one units type into)
    return "local:" + os.path.relpath(os.path.realpath(workbook), here)


def plan_of(number: str, year: int) -> str:
    return f"{year}|{number}"


def mail_scope(backend: str, spreadsheet_id: str | None, workbook: Path) -> str:
    """What tells this configuration's e-mails from another's (their Message-IDs, hence their outbox file
    names): the workbook the report is of, wherever the command runs."""
    return f"google:{spreadsheet_id}" if backend == "google" else f"local:{os.path.realpath(workbook)}"


def _shown_workbook(value: str, state: Path) -> str:
    kind, _, where = value.partition(":")
    if kind == "google":
        return f"Google Sheet id '{where}'"
    return f"tệp '{os.path.normpath(Path(os.path.realpath(state)).parent / where)}'"


def _shown_plan(value: str) -> str:
    year, _, number = value.partition("|")
    return f"kế hoạch {('số ' + number + ' ') if number else ''}năm {year}"


def check(recorded: dict[str, str], current: dict[str, str], state: Path) -> None:
    """Raise StateMismatch when the state file recorded another workbook or plan than the configuration's."""
    was, now = recorded.get(WORKBOOK), current[WORKBOOK]
    if was is not None and was != now:
        raise StateMismatch(
            f"Tệp trạng thái '{state}' (khóa cấu hình {KEY}) là của bảng tính khác: {_shown_workbook(was, state)}; "
            f"cấu hình này dùng {_shown_workbook(now, state)}. Mỗi bảng tính có tệp trạng thái riêng (lịch sử, sổ "
            f"gửi thư). Sửa: đặt khóa {KEY} của cấu hình này sang một tệp khác (ví dụ 'state/thu-nghiem.sqlite'), "
            "hoặc sửa khóa 'local.path' / 'google.spreadsheet_id' nếu chọn nhầm bảng tính. Chưa ghi gì.")
    was, now = recorded.get(PLAN), current[PLAN]
    if was is not None and was != now:
        raise StateMismatch(
            f"Tệp trạng thái '{state}' (khóa cấu hình {KEY}) là của {_shown_plan(was)}; cấu hình này dùng "
            f"{_shown_plan(now)} (khóa 'plan'). Mỗi kế hoạch có bảng tính và tệp trạng thái riêng. Sửa: đặt khóa "
            f"{KEY} sang một tệp mới cho kế hoạch này, hoặc sửa khóa 'plan' nếu chọn nhầm. Chưa ghi gì.")


def logged_passes(snapshot: Snapshot, layout: Layout) -> list[str]:
    """The pass ids in the workbook's `Nhật ký` (column `Mã lượt chạy`), oldest first."""
    tab = snapshot.find_tab(layout.tabs["log"])
    col = id_column(tab, layout.log_columns)
    if tab is None or col is None:
        return []
    return [v.strip() for row in tab.rows[1:] if len(row) >= col and isinstance(v := row[col - 1], str) and v.strip()]


def witness(snapshot: Snapshot, layout: Layout, state: Path, where: str) -> None:
    """Raise StateMismatch when `Nhật ký` holds passes (to be called only for a state file that knows nothing)."""
    ids = logged_passes(snapshot, layout)
    if not ids:
        return
    raise StateMismatch(
        f"Tệp trạng thái '{state}' (khóa cấu hình {KEY}) chưa ghi lượt chạy nào (tệp mới, trống hoặc 0 byte), nhưng "
        f"tab '{layout.tabs['log']}' của {where} đã có {len(ids)} lượt chạy (gần nhất mã {ids[-1]}): tệp trạng thái "
        "của bảng tính này đã mất hoặc bị thay, cùng lịch sử các ô và sổ gửi thư. Sửa: khôi phục tệp từ bản sao lưu "
        f"(hoặc đặt khóa {KEY} về đúng tệp); nếu chấp nhận bắt đầu tệp trạng thái mới (mất lịch sử cũ; báo cáo đã "
        f"gửi có thể bị gửi lại), chạy lại lệnh với {NEW_STATE}. Chưa ghi gì.")


# --- the second witness of report e-mails ---------------------------------------------------------------------

WITNESS_SUFFIX = ".da-gui.json"


class SentEntry(TypedDict):
    """What the witness keeps of one recipient's message (records written before `file` existed lack it)."""

    at: str  # ISO time the server accepted it
    message_id: str
    file: str  # the report's file the message carried


class Witness:
    def __init__(self, report: Path, period: str):
        self.report = report
        self.period = period
        self.path = report.with_name(report.stem + WITNESS_SUFFIX)

    def _load(self) -> tuple[dict[str, object], dict[str, object]]:
        """The record as read (JSON: "period", "report", "sent") and its "sent": recipient → SentEntry, as
        written or edited by hand (each entry is checked where it is used)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            empty: dict[str, object] = {}
            return {"period": self.period, "report": self.report.name, "sent": empty}, empty
        except (OSError, ValueError) as exc:
            raise UserError(f"Không đọc được tệp ghi nhận thư đã gửi '{self.path}' ({exc}). Tệp này chứng "
                            "nhận báo cáo đã gửi cho ai; sửa hoặc xóa nó (nếu chắc chắn chưa gửi) rồi chạy "
                            "lại.") from None
        if not isinstance(data, dict) or not isinstance(sent := data.get("sent"), dict):
            raise UserError(f"Tệp ghi nhận thư đã gửi '{self.path}' không đúng dạng; sửa hoặc xóa nó rồi chạy lại.")
        return data, sent

    def sent(self) -> dict[str, object]:
        """recipient (lower case) → its SentEntry."""
        return dict(self._load()[1])

    def record(self, recipient: str, at: dt.datetime, message_id: str) -> None:
        """Called after each accepted message; atomic, so a crash leaves the previous record or this one."""
        data, sent = self._load()
        entry: SentEntry = {"at": at.isoformat(), "message_id": message_id, "file": self.report.name}
        sent[bare_address(recipient)] = entry
        self._save(data)

    def moved_to(self, copy: Path) -> None:
        """The report was sent, kept as `copy` and is about to be rebuilt (`--force`): what each recipient
        received is now the copy, not the file of the report's name (which will not have been sent)."""
        data, sent = self._load()
        changed = False
        for entry in sent.values():
            if isinstance(entry, dict) and entry.get("file", self.report.name) == self.report.name:
                entry["file"] = copy.name
                changed = True
        if changed:
            self._save(data)

    def _save(self, data: dict[str, object]) -> None:
        files.remove_leftovers(self.path, time.time() - files.LEFTOVER_AGE_S)
        try:
            files.write_text(self.path, json.dumps(data, ensure_ascii=False, indent=1))
        except OSError as exc:
            raise files.folder_error(exc, self.path.parent, "report.out_dir", "thư mục báo cáo") from None

    def unknown_to(self, ledger: list[str]) -> list[str]:
        """Recipients the witness shows as sent and the ledger does not: the state file lost them."""
        known = {bare_address(r) for r in ledger}
        return [r for r in self.sent() if bare_address(r) not in known]
