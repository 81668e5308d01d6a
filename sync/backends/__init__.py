"""Workbook backends behind the `sync.core.workbook.Backend` interface, chosen by the `backend` config key."""
from __future__ import annotations

from sync.core.config import Settings
from sync.core.errors import UserError
from sync.core.workbook import Backend


def open_backend(settings: Settings, rows_hint: int | None = None, read_only: bool = False) -> Backend:
    """`rows_hint`: the tracking rows the plan expects, by which the Google backend reads in one request or two.
    `read_only`: the command never writes (report, export, remind, status, dry runs): the local workbook is let go
    as soon as it is read (the Google backend holds nothing between read and write anyway)."""
    if settings.backend == "google":
        try:
            from sync.backends.google import GoogleBackend
        except ImportError:
            raise UserError("Khóa cấu hình 'backend: google': bản này chưa có kết nối Google Sheets; "
                            "dùng 'backend: local'.") from None
        backend = GoogleBackend.from_settings(settings)
        backend.rows_hint = rows_hint
        return backend
    from sync.backends.local import LocalBackend
    # the dashboard is replaced by every pass: read no further than a pass looks (sync.backends.xlsx_read)
    return LocalBackend(settings.local.path, settings.local.owner_file_max_age_hours,
                        replaced=(settings.layout.tabs["dashboard"],), read_only=read_only)
