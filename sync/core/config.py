"""Settings: one YAML file (docs/configuration.md), checked key by key.

Every problem is reported once, naming its key (`mail.smtp.port`) and the file, so the Office can fix
the file without reading code. Relative paths are taken from the current directory (cron lines `cd`
into the project first); the plan is also looked up in the project folder itself.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import string
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sync.core.errors import UserError
from sync.core.problems import load_yaml, validation_problems
from sync.core.products import Kind, with_settings
from sync.core.schema import (
    LOG_COLUMNS,
    PLAN_COLUMNS,
    TABS,
    TRACKING_COLUMNS,
    Layout,
    closest,
    fold,
    is_address,
    mailbox,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
ENV_VAR = "CCHC_CONFIG"
DEFAULT_PATHS = (Path("config/settings.yaml"), Path("config/settings.example.yaml"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LocalSettings(_Strict):
    path: Path = Path("data/theo-doi-cchc-2024.xlsx")
    owner_file_max_age_hours: float = Field(default=12, gt=0)  # an Excel/LibreOffice owner file older is stale



class GoogleSettings(_Strict):
    spreadsheet_id: str | None = None
    credentials_file: Path | None = Path("credentials.json")
    api_base_url: str | None = None
    timeout_s: float = Field(default=30, gt=0)
    retry_budget_s: float = Field(default=120, gt=0)
    #: Each unit edits only its rows of the tracking tab: a protected range per run of its rows, re-anchored each pass,
    #: whose editors are the unit's addresses (the plan's `units[].email`), `office_editors` and the service account.
    protect_rows: bool = False
    office_editors: list[str] = []  # the Office's staff who may edit every row (and the plan tab's protected cells)

    @field_validator("office_editors")
    @classmethod
    def _editor_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            if not is_address(item):
                raise ValueError(f"'{item}' không phải là địa chỉ e-mail (ví dụ: vanphong@khanhhoa.gov.vn)")
        return value


#: Names the Office may use in `report.subject` and `report.opening`, filled in by sync/reports/content.py.
REPORT_PLACEHOLDERS = ("period", "quarter", "year", "period_from", "period_to", "as_of", "plan_title",
                       "plan_ref", "plan_number", "plan_issued", "issuer")


def _placeholders_known(text: str) -> str:
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(f"dấu ngoặc {{ }} không khớp ({exc})") from None
    for name, spec, conv in fields:
        if spec or conv:  # "{period:>9999}", "{period!r}": a format the report cannot keep to, or a trap
            raise ValueError(f"chỗ điền '{{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}' có kèm "
                             f"định dạng; chỉ ghi tên chỗ điền, ví dụ '{{{name}}}'")
    names = {name for name, _, _ in fields}
    unknown = sorted(names - set(REPORT_PLACEHOLDERS))
    if unknown:
        raise ValueError(f"không có chỗ điền '{{{unknown[0]}}}'; dùng: "
                         + ", ".join(f"{{{n}}}" for n in REPORT_PLACEHOLDERS))
    return text


def _non_empty_lines(items: list[str]) -> list[str]:
    lines = [_printable(unicodedata.normalize("NFC", str(item)).strip()) for item in items]
    if not lines or any(not line for line in lines):
        raise ValueError("cần ít nhất một dòng, và không dòng nào để trống")
    return lines


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """A text printed in the report (its subject, letterhead, lists): no control character, which neither the
    document nor its layout can take (a pasted carriage return once stopped the report with a bug)."""
    if found := _CONTROL.search(text):
        raise ValueError(f"có ký tự điều khiển (mã {ord(found.group()):#04x}, ví dụ một dấu xuống dòng dán nhầm) ở "
                         f"vị trí {found.start() + 1}; viết trên một dòng, chỉ chữ, số và dấu câu")
    return text


def _one_paragraph(text: str) -> str:
    """The opening and closing: line breaks (a YAML block written over several lines) become spaces."""
    return _printable(" ".join(str(text).split()) if "\n" in str(text) or "\r" in str(text) else str(text))


class SignerSettings(_Strict):
    authority: str = "KT. GIÁM ĐỐC"   # "KT. GIÁM ĐỐC", "TL. GIÁM ĐỐC"…; empty when the Director signs
    title: str = "PHÓ GIÁM ĐỐC"
    name: str = ""                    # left blank: the Office writes the name by hand

    _check_lines = field_validator("authority", "title", "name")(_printable)


class ReportSettings(_Strict):
    out_dir: Path = Path("reports/out")
    governing_body: str = "UBND TỈNH KHÁNH HÒA"
    issuer: str = "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    code: str = "BC-STTTT"
    place: str = "Khánh Hòa"
    subject: str = "Kết quả thực hiện công tác tuyên truyền cải cách hành chính {period}"
    opening: str = ("Thực hiện {plan_title}{plan_ref}, {issuer} báo cáo kết quả thực hiện {period} "
                    "(số liệu từ ngày {period_from} đến ngày {period_to}) như sau:")
    # "Kính gửi:" (ND 30/2020: a report goes up to a higher body); the plan sends its reports to UBND tỉnh
    # through Sở Nội vụ
    addressees: list[str] = ["Ủy ban nhân dân tỉnh Khánh Hòa (qua Sở Nội vụ)"]
    # "Nơi nhận" in the seed's house style; the "Lưu:" line is added from drafter and copies when not listed here
    recipients: list[str] = ["Như trên;", "Ban GĐ Sở (VBĐT);"]
    drafter: str = "A"                 # the drafter's initials in "Lưu: VT, VP (A,02)."
    copies: int = Field(default=2, ge=1, le=99)  # copies kept, ditto
    draft_mark: bool = True            # "DỰ THẢO" at the top: the Office's draft, numbered and signed by Văn thư
    next_plan: Path | None = None      # next year's plan (.yaml), for the annual report's "Phương hướng"
    closing: str = ("Trên đây là báo cáo kết quả thực hiện Kế hoạch tuyên truyền cải cách hành chính {period} "
                    "của {issuer}./.")
    cycle: Literal["cchc", "quarterly"] = "cchc"          # Quý I, 6 tháng, Quý III, năm | four quarters
    third: Literal["quarter", "nine_months"] = "quarter"  # the third report: Quý III or 9 tháng đầu năm
    pdf: bool = False                                      # also a PDF (LibreOffice), sent with the .docx
    signer: SignerSettings = SignerSettings()

    _check_paragraphs = field_validator("opening", "closing")(_one_paragraph)
    _check_lines = field_validator("subject", "governing_body", "issuer", "code", "place")(_printable)
    _check_texts = field_validator("subject", "opening", "closing")(_placeholders_known)
    _check_lists = field_validator("addressees", "recipients")(_non_empty_lines)

    @property
    def texts(self) -> dict[str, str]:
        return {"subject": self.subject, "opening": self.opening, "closing": self.closing}


class SmtpSettings(_Strict):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = "SMTP_PASSWORD"
    timeout_s: float = Field(default=30, gt=0)
    attempts: int = Field(default=3, ge=1, le=10)       # tries per message when the server is unreachable
    retry_wait_s: float = Field(default=5, ge=0)        # first wait between tries; doubles each time

    @field_validator("password_env", mode="before")
    @classmethod
    def _a_variable_name(cls, value: object) -> object:
        # Never repeat the value: it may be the password itself, pasted here by mistake.
        if value is not None and not (isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value)):
            raise ValueError("phải là TÊN của một biến môi trường (chữ, số, dấu gạch dưới; ví dụ SMTP_PASSWORD), "
                             "không phải mật khẩu. Giá trị hiện có không được in ra vì có thể là mật khẩu dán nhầm: "
                             "nếu đúng vậy, hãy đổi mật khẩu đó, đặt nó vào biến môi trường và ghi tên biến ở đây")
        return value


class MailSettings(_Strict):
    mode: Literal["outbox", "smtp"] = "outbox"
    outbox_dir: Path = Path("outbox")
    from_: str = Field(default="Văn phòng Sở TT&TT Khánh Hòa <vanphong@example.invalid>", alias="from")
    report_to: list[str] = []
    smtp: SmtpSettings = SmtpSettings()

    @field_validator("from_")
    @classmethod
    def _sender(cls, value: str) -> str:
        """The sender the letters carry: one address, said at load (a slip made the first sending crash)."""
        if mailbox(value) is None:
            raise ValueError(f"'{value}' không phải là địa chỉ người gửi: ghi dạng \"Văn phòng Sở TT&TT Khánh Hòa "
                             "<vanphong@khanhhoa.gov.vn>\" hoặc chỉ địa chỉ (không dấu, không khoảng trắng)")
        return value

    @field_validator("report_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        """Each recipient an address ("Tên <a@b.vn>" or "a@b.vn"): a slip is said now, not after the report
        was built and half the recipients were mailed."""
        for item in value:
            if not is_address(item):
                raise ValueError(f"'{item}' không phải là địa chỉ e-mail (ví dụ: lanhdao@khanhhoa.gov.vn)")
        return value


class DeadlineSettings(_Strict):
    quarter_cutoff_day: int = Field(default=14, ge=1, le=28)
    due_soon_days: int = Field(default=7, ge=0, le=90)


class RemindSettings(_Strict):
    interval_days: int = Field(default=7, ge=1, le=366)   # at most one reminder per unit in this many days


class DaemonSettings(_Strict):
    every_minutes: int = Field(default=60, ge=1, le=1440)  # a pass this often within working hours
    work_start: dt.time = dt.time(7, 30)
    work_end: dt.time = dt.time(17, 30)
    report_at: dt.time = dt.time(8, 0)             # on the first working day after each quarter's cut-off
    report_catch_up_days: int = Field(default=7, ge=0, le=60)  # …or this many days later if it could not go then
    remind_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday"] = "monday"
    remind_at: dt.time = dt.time(8, 30)
    extra_holidays: list[dt.date] = []             # days off the law does not list (decided each year)
    extra_workdays: list[dt.date] = []             # make-up Saturdays the government announces

    @field_validator("work_start", "work_end", "report_at", "remind_at", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 17:30 as the number 1050 (base 60): refuse it rather than guess.
        if isinstance(value, int):
            raise ValueError("giờ phải viết trong ngoặc kép, ví dụ \"17:30\"")
        return value


class StatusSettings(_Strict):
    max_age_hours: float = Field(default=26, gt=0)


class Settings(_Strict):
    backend: Literal["local", "google"] = "local"
    local: LocalSettings = LocalSettings()
    google: GoogleSettings = GoogleSettings()
    plan: Path = Path("config/plans/ke-hoach-tuyen-truyen-cchc-2024.yaml")
    state: Path = Path("state/cchc.sqlite")
    report: ReportSettings = ReportSettings()
    mail: MailSettings = MailSettings()
    deadlines: DeadlineSettings = DeadlineSettings()
    status: StatusSettings = StatusSettings()
    remind: RemindSettings = RemindSettings()
    daemon: DaemonSettings = DaemonSettings()
    timezone: str = "Asia/Ho_Chi_Minh"
    lock_wait_s: float = Field(default=120, ge=0)  # how long a command waits for another pass to finish
    sheet_url: str | None = None
    tabs: dict[Literal["plan", "tracking", "dashboard", "log", "guide", "office"], str] = {}
    headers: dict[str, str] = {}
    #: Kinds of products (sync.core.products): label → words, adding words to a default kind or a new kind.
    products: dict[str, list[str]] = {}
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("products")
    @classmethod
    def _product_words(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        with_settings(value)  # ValueError in Vietnamese, naming the kind
        return value

    @property
    def product_kinds(self) -> tuple[Kind, ...]:
        """The kinds of products counted: the defaults with this file's words and kinds (sync.core.products)."""
        return with_settings(self.products)

    @model_validator(mode="after")
    def _local_workbook_is_an_xlsx(self) -> Settings:
        """The local workbook is an Excel .xlsx: under another name Excel warns the file is not what it says, and a
        macro workbook (.xlsm) would lose its macros on the first save. A Google user's `local.path` is unused."""
        path = self.local.path
        if self.backend == "local" and path.name and path.suffix.lower() != ".xlsx":
            msg = (f"'{path}' không phải tệp .xlsx: bảng tính của chương trình là một tệp Excel .xlsx (ví dụ "
                   "data/theo-doi-cchc-2024.xlsx)")
            raise PydanticCustomError("cchc_located", "{summary}",
                                      {"summary": msg, "problems": [(("local", "path"), msg)]})
        return self

    @field_validator("headers")
    @classmethod
    def _headers_honoured(cls, value: dict[str, str]) -> dict[str, str]:
        problems = [(("headers", key), msg) for key in value if (msg := header_key_problem(key))]
        problems += [(("headers", key), f"tên cột '{key}' không được để trống: ghi đúng tiêu đề cột trong bảng "
                                        "tính, hoặc xóa dòng này")
                     for key, header in value.items() if key in HEADER_KEYS and not str(header).strip()]
        if problems:
            raise PydanticCustomError("cchc_located", "{summary}",
                                      {"summary": "; ".join(msg for _, msg in problems), "problems": problems})
        return value

    @field_validator("tabs")
    @classmethod
    def _tabs_apart(cls, value: dict[str, str]) -> dict[str, str]:
        problems = [(("tabs", key), msg) for key, msg in tab_problems(value)]
        if problems:
            raise PydanticCustomError("cchc_located", "{summary}",
                                      {"summary": "; ".join(msg for _, msg in problems), "problems": problems})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"không có múi giờ '{value}'; dùng tên IANA, ví dụ \"Asia/Ho_Chi_Minh\"") from None
        return value

    @property
    def layout(self) -> Layout:
        tabs: dict[str, str] = {str(key): name for key, name in self.tabs.items()}
        return Layout.from_overrides(tabs, self.headers)

    def plan_path(self) -> Path:
        path = self.plan
        if not path.is_absolute() and not path.exists() and (PROJECT_DIR / path).exists():
            return PROJECT_DIR / path
        return path

    def where(self) -> str:
        """Where the units' data lives, for messages and e-mails."""
        if self.backend == "google":
            return self.sheet_url or f"https://docs.google.com/spreadsheets/d/{self.google.spreadsheet_id}"
        return str(self.local.path.resolve())


#: The column keys `headers:` may rename: the plan tab's and the tracking tab's (sync/core/schema.py), in their order.
HEADER_KEYS = tuple(dict.fromkeys([*PLAN_COLUMNS, *TRACKING_COLUMNS]))


def header_key_problem(key: str) -> str | None:
    """What is wrong with `key` under `headers:`, or None for a column `Layout.from_overrides` renames. The
    columns of the log tab are the job's own record (its pass id column included): not renamed, so refused."""
    if key in HEADER_KEYS:
        return None
    allowed = "dùng một trong: " + ", ".join(HEADER_KEYS)
    if key in LOG_COLUMNS:
        return (f"'{key}' là cột '{LOG_COLUMNS[key]}' của tab nhật ký, do công cụ tự ghi và không đổi tên được; "
                f"mục 'headers:' chỉ đổi tên cột của tab kế hoạch và tab theo dõi ({allowed}). Xóa dòng này")
    hint = closest(key, list(HEADER_KEYS))
    return (f"'{key}' không phải tên cột nào" + (f" (có phải '{hint}'?)" if hint else "") + f"; {allowed}")


#: Characters a tab's name cannot hold in Excel (Google refuses most of them too).
TAB_NAME_FORBIDDEN = frozenset("[]:*?/\\")
#: The longest tab name Excel keeps (openpyxl warns, Excel repairs the file).
TAB_NAME_MAX = 31


def tab_problems(overrides: dict[str, str]) -> list[tuple[str, str]]:
    """What is wrong with `tabs:` (key, message): a name that no tab can have, or two keys naming the same tab
    once names are folded the way tabs are found (case, accents, dashes). Two keys on one tab would make a pass
    delete the units' tab to write the dashboard there, or append log lines among their rows: refused before
    anything is read."""
    problems: list[tuple[str, str]] = []
    names = {**TABS, **{str(k): unicodedata.normalize("NFC", str(v)) for k, v in overrides.items()}}
    for key, name in overrides.items():
        if not name.strip():
            problems.append((key, "tên tab không được để trống"))
        elif bad := sorted(set(name) & TAB_NAME_FORBIDDEN):
            problems.append((key, f"tên tab '{name}' có ký tự không được phép trong tên tab ({' '.join(bad)})"))
        elif len(name) > TAB_NAME_MAX:
            problems.append((key, f"tên tab '{name}' dài {len(name)} ký tự; Excel chỉ nhận tên tab tối đa "
                                  f"{TAB_NAME_MAX} ký tự: đặt tên ngắn hơn"))
        elif name.startswith("'") or name.endswith("'") or fold(name) == "history":
            problems.append((key, f"tên tab '{name}' không dùng được trong Excel (tên 'History', hoặc có dấu nháy "
                                  "đơn ở đầu hay cuối): đặt tên khác"))
        elif any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
            problems.append((key, f"tên tab '{name.encode('unicode_escape').decode()}' có ký tự ẩn (không nhìn thấy): "
                                  "gõ lại tên tab"))
    seen: dict[str, str] = {}
    for key, name in names.items():
        other = seen.setdefault(fold(name), key)
        if other != key and name.strip():
            where = [k for k in (other, key) if k in overrides]
            said = " và ".join(f"'tabs.{k}' ('{names[k]}'" + ("" if k in overrides else ", mặc định") + ")"
                               for k in (other, key))
            problems.append((where[-1], f"{said} chỉ cùng một tab; mỗi khóa phải chỉ một tab riêng, nếu không một "
                             "lượt chạy sẽ xóa hoặc ghi đè dữ liệu của tab kia. Đặt tên khác cho một trong hai"))
    return problems


def find_config(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    for candidate in DEFAULT_PATHS:
        for base in (Path.cwd(), PROJECT_DIR):
            if (base / candidate).exists():
                return base / candidate
    return DEFAULT_PATHS[-1]


def load_settings(explicit: str | None = None) -> Settings:
    path = find_config(explicit)
    try:
        raw, text = load_yaml(path, "Tệp cấu hình")
    except FileNotFoundError:
        raise UserError(f"Không tìm thấy tệp cấu hình '{path}'. Sao chép config/settings.example.yaml "
                        f"thành config/settings.yaml, hoặc chỉ định bằng --config hay biến {ENV_VAR}.") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise UserError(f"Tệp cấu hình '{path}' phải là một bảng khóa: giá trị (YAML mapping).")
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        lines = "\n".join(f"  - {line}" for line in validation_problems(exc, Settings, text))
        raise UserError(f"Tệp cấu hình '{path}' có lỗi:\n{lines}") from None
    if settings.backend == "google" and not settings.google.spreadsheet_id:
        raise UserError(f"Tệp cấu hình '{path}': backend là 'google' nhưng thiếu khóa 'google.spreadsheet_id'.")
    settings.source = path
    return settings
