"""Workbook backends behind the `sync.core.workbook.Backend` interface, chosen by the `backend` config key."""
from __future__ import annotations

from sync.core.config import Settings
from sync.core.errors import UserError
from sync.core.workbook import Backend


def open_backend(settings: Settings, rows_hint: int | None = None) -> Backend:
    """`rows_hint`: the tracking rows the plan expects, by which the Google backend reads in one request or two."""
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
    return LocalBackend(settings.local.path, settings.local.owner_file_max_age_hours)
