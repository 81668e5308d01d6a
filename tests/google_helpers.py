"""Helpers for the Google backend tests: the stand-in on a free port and a service-account key for it."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SPREADSHEET_ID = "1CCHCkhanhHoaTheoDoiTuyenTruyen2024abcdefgh"
ACCOUNT = "cchc-sync@cchc-khanhhoa.iam.gserviceaccount.com"


#: The stand-in never checks a signature, so the key's size only costs time: google-auth parses (and validates)
#: the key of the file on every command, 36 ms at 2048 bits against 5 ms at 1024, the smallest size the
#: `cryptography` library makes. The product parses whatever key the file holds; a real Google key is 2048 bits.
KEY_BITS = 1024


@functools.cache
def _pem() -> str:
    """One real RSA key per test process: generating a key costs a tenth of a second or more, and every key file
    of the suite may share it (each test still writes its own file, with its own token_uri)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def write_key(path: Path, token_uri: str) -> Path:
    """A service-account key shaped like Google's, with a real RSA key so google-auth can sign its JWT."""
    pem = _pem()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "cchc-khanhhoa", "private_key_id": "0123456789abcdef",
        "private_key": pem, "client_email": ACCOUNT, "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/cchc-sync",
        "universe_domain": "googleapis.com"}), encoding="utf-8")
    path.chmod(0o600)  # as README tells the Office to keep it (a wider mode is warned about)
    return path


class Waits(list):
    """Waits recorded instead of slept, and a clock that moves by them as if they had been slept."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    def clock(self) -> float:
        import time
        return time.monotonic() + sum(self)

    def recorded_clock(self) -> float:
        """A clock that moves by the recorded waits alone: a budget measured on it does not depend on how fast
        the machine answers (for a test whose point is the waits, not the requests' own time)."""
        return sum(self)


#: How long the client waits for the answer to a request the stand-in answers late (a `late` fault), in tests
#: whose point is an answer that comes after the client gave up (`answer_late_quickly`).
LATE_S = 0.05


def answer_late_quickly(api, monkeypatch) -> None:
    """A request that meets a `late` fault of the stand-in `api` waits LATE_S for its answer; every other request
    keeps its configured timeout (on a loaded machine a normal request may take a second: 0.3 s for all was
    once too short).

    The order stays certain whatever the machine's load: the late fault is claimed for this request before it
    is sent (`SheetsAPI.claim_late`), so however late the stand-in's thread picks the request up, this request
    and no other meets it; urllib3 sends it under the connect timeout (the configured one) and waits for the
    answer under the read timeout (LATE_S), and the stand-in handles a late request only once the client has
    hung up, so it always lands after the client gave up. Only
    the Sheets requests' transport is wrapped: google-auth fetches its token through a session of its own, with
    the configured timeout."""
    from sync.backends import google_http
    real = google_http.authorized_session

    def session_for(credentials, api_base_url=None):
        session = real(credentials, api_base_url)
        for adapter in set(session.adapters.values()):
            monkeypatch.setattr(adapter, "send", _late_quickly(api, adapter.send))
        return session

    monkeypatch.setattr(google_http, "authorized_session", session_for)


def _late_quickly(api, send):
    def quick(request, *args, **kwargs):
        if api.claim_late(request.method, urlsplit(request.url).path, request.headers):  # this request, no other
            timeout = kwargs["timeout"]
            connect = timeout[0] if isinstance(timeout, tuple) else timeout
            kwargs["timeout"] = (connect, LATE_S)  # (connect and send the request, wait for the answer)
        return send(request, *args, **kwargs)
    return quick
