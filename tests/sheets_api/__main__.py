"""Run the stand-in by hand: `python -m tests.sheets_api --port PORT [--latency SECONDS]`."""
from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .server import SheetsAPI, serve


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Google Sheets API v4 stand-in (127.0.0.1 only).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--write-key", metavar="PATH", help="also write a service-account key for this stand-in")
    args = parser.parse_args()
    server, thread = serve(SheetsAPI(latency=args.latency), args.port)
    print(f"Sheets API stand-in on http://127.0.0.1:{server.server_port} (token endpoint /token); Ctrl-C stops.",
          flush=True)
    if args.write_key:
        from ..google_helpers import write_key
        write_key(Path(args.write_key), f"http://127.0.0.1:{server.server_port}/token")
        print(f"Wrote a key for this stand-in to {args.write_key} (fake account, real RSA key).")
    print(f"In config/settings.yaml: backend: google, google: {{api_base_url: http://127.0.0.1:{server.server_port}, "
          "spreadsheet_id: <any 20+ letters>, credentials_file: <a key whose token_uri is .../token>}")
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop).start())
    try:
        thread.join()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
