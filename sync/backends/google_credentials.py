"""The service account: where its key file is, the key read and checked, and the HTTP session it signs.

Every message names the file and says how to fix it (exit 2). The session is google-auth's public
`AuthorizedSession`; with `google.api_base_url` (offline trials, tests against the stand-in) both the session
and the one google-auth uses for its own calls (the token, the regional access boundary lookup it makes after
each token refresh) only reach the stand-in's host: nothing leaves for Google, through public API only
(a requests transport adapter), not by overriding a method of google-auth.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account

from sync.core.errors import UserError

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]


def key_path(configured: Path | None) -> Path:
    """The key file: the configured one if it exists (or nothing else is set), else GOOGLE_APPLICATION_CREDENTIALS."""
    env = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if configured and (configured.exists() or not env):
        return configured
    if env:
        return Path(env)
    return Path("credentials.json")


def load_credentials(path: Path) -> service_account.Credentials:
    """The service account's credentials for the spreadsheets scope; UserError (exit 2) naming the file if not."""
    where = (f"Tệp khóa tài khoản dịch vụ '{path}' (khóa cấu hình 'google.credentials_file' "
             "hoặc biến GOOGLE_APPLICATION_CREDENTIALS)")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{where} không tồn tại. Tạo khóa JSON cho tài khoản dịch vụ như README hướng dẫn "
                        "(mục Google Sheets) và lưu vào đường dẫn này.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{where} không phải JSON hợp lệ ({exc}). Tải lại khóa JSON từ Google Cloud Console.") \
            from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else type(info).__name__
        raise UserError(f"{where} không phải khóa của tài khoản dịch vụ ('type' là {kind!r}, cần "
                        "'service_account'). Khóa OAuth của người dùng không dùng được cho tác vụ chạy tự động.")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise UserError(f"{where} thiếu trường {', '.join(missing)}. Tải lại khóa JSON đầy đủ.")
    try:
        credentials: service_account.Credentials = service_account.Credentials.from_service_account_info(
            info, scopes=SCOPES)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{where}: 'private_key' không đọc được ({exc}). Tải lại khóa JSON.") from None
    return credentials


def warn_if_shared(path: Path, stream: TextIO | None = None) -> bool:
    """Warn (stderr) when other users may read the key file; the command goes on. True if warned."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if os.name != "posix" or not mode & 0o077:
        return False
    print(f"Cảnh báo: tệp khóa tài khoản dịch vụ '{path}' có quyền {mode & 0o777:03o}, người dùng khác trên máy "
          f"có thể đọc hoặc sửa khóa bí mật. Chạy 'chmod 600 {path}' để chỉ chủ tệp đọc được.",
          file=stream or sys.stderr)
    return True


class OnlyHosts(requests.adapters.HTTPAdapter):
    """A requests transport that sends only to the given hosts and refuses any other without touching the network
    (a ConnectionError, as for a host that cannot be reached)."""

    __attrs__ = [*requests.adapters.HTTPAdapter.__attrs__, "hosts"]  # kept when google-auth copies the session

    def __init__(self, hosts: frozenset[str], **kwargs: Any):
        self.hosts = hosts
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        host = urlsplit(request.url or "").hostname or ""
        if host not in self.hosts:
            raise requests.exceptions.ConnectionError(
                f"offline trial (google.api_base_url): {host} is not contacted", request=request)
        return super().send(request, *args, **kwargs)


def confined_session(hosts: frozenset[str]) -> requests.Session:
    """A plain requests session that reaches only `hosts` (google-auth's own calls in an offline trial)."""
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and a local stand-in
    for scheme in ("http://", "https://"):
        session.mount(scheme, OnlyHosts(hosts))
    return session


def authorized_session(credentials: Credentials, api_base_url: str | None = None
                       ) -> AuthorizedSession:
    """The session Sheets requests go through. With `api_base_url`, it and google-auth's own calls reach only
    that URL's host (the key's token_uri must be there too, as the stand-in's keys have it)."""
    if not api_base_url:
        return AuthorizedSession(credentials)
    hosts = frozenset({urlsplit(api_base_url).hostname or ""})
    session = AuthorizedSession(credentials, auth_request=Request(confined_session(hosts)))
    session.trust_env = False
    for scheme in ("http://", "https://"):
        session.mount(scheme, OnlyHosts(hosts))
    return session
