"""Run the stand-in by hand: `python -m tests.sheets_api --port PORT [--latency SECONDS]`."""
from __future__ import annotations

import argparse

from .server import SheetsAPI, serve


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Google Sheets API v4 stand-in (127.0.0.1 only).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    args = parser.parse_args()
    server, thread = serve(SheetsAPI(latency=args.latency), args.port)
    print(f"Sheets API stand-in on http://127.0.0.1:{server.server_port} (token endpoint /token); Ctrl-C stops.")
    print(f"In config/settings.yaml: backend: google, google: {{api_base_url: http://127.0.0.1:{server.server_port}, "
          "spreadsheet_id: <any 20+ letters>, credentials_file: <a key whose token_uri is .../token>}")
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
