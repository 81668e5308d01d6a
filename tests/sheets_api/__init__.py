"""A local stand-in for the Google Sheets API v4, for tests and offline trials of `backend: google`.

    python -m tests.sheets_api --port 8765     # then google.api_base_url: http://127.0.0.1:8765

Shaped after the recorded traffic in cassettes/ (gspread's own recordings of the real API) and strict
after discovery.json: see contract.py (what is rejected), store.py (the sheets), server.py (HTTP, OAuth,
faults).
"""
from .server import Fault, SheetsAPI, serve  # noqa: F401
from .store import Store  # noqa: F401
