"""Workbook backends behind the `sync.workbook.Backend` interface, chosen by the `backend` config key."""
from __future__ import annotations

from ..config import Settings
from ..workbook import Backend


def open_backend(settings: Settings) -> Backend:
    if settings.backend == "google":
        from .google import GoogleBackend
        return GoogleBackend.from_settings(settings)
    from .local import LocalBackend
    return LocalBackend(settings.local.path)
