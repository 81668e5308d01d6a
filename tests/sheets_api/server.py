"""The HTTP side of the stand-in: real sockets on 127.0.0.1, the API's paths and envelopes, OAuth at /token,
a log of every request, and faults a test can switch on (429 with Retry-After, 5xx, slow answers, a
dropped connection, an answer cut mid-body, a write that lands only after the client gave up waiting, or
any change to the sheet — a unit inserting a row — at a chosen moment).
"""
from __future__ import annotations

import base64
import itertools
import json
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import contract
from .contract import BadRequest
from .store import NotFound, Store

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
CLAIM_HEADER = "X-Stand-In-Claim"  # a request that claimed its fault before it was sent (SheetsAPI.claim_late)


@dataclass
class Fault:
    """What to do to the next request(s) that match: `path` is a substring of the raw path, `method` the verb."""

    status: int | None = None        # answer with this error instead
    retry_after: float | None = None  # with a Retry-After header (seconds)
    message: str | None = None       # the error's message (default: what Google says for that status)
    delay: float = 0.0               # wait before answering (a slow server)
    drop: bool = False               # close the connection without answering
    truncate: int | None = None      # handle the request, send the headers, then only this many body bytes
    late: bool = False               # handle the request only once the client has hung up (it timed out)
    before: Callable[[Store], None] | None = None  # change the sheet before handling (someone typing)
    path: str | None = None
    method: str | None = None
    times: int = 1
    skip: int = 0                    # let this many matching requests through first
    #: Called before handling, outside the stand-in's lock: a test holds a request here until something it
    #: waits for has happened (e.g. a late write has landed), so that the order of events is certain.
    hold: Callable[[], object] | None = None
    #: Released once per request this fault caught, after it was handled and logged.
    done: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0), repr=False)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path in path)


@dataclass
class Logged:
    method: str
    path: str
    query: dict
    status: int
    body: object = None


@dataclass
class SheetsAPI:
    """State shared by the handler threads: the store, issued tokens, the request log and pending faults."""

    store: Store = field(default_factory=Store)
    latency: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    tokens: dict[str, dict] = field(default_factory=dict)  # access token → JWT claims it was issued for
    lock: threading.RLock = field(default_factory=threading.RLock)
    claimed: dict[str, Fault] = field(default_factory=dict)  # claim_late: claim → the fault its request meets
    _claims: itertools.count = field(default_factory=itertools.count)

    def fault(self, **kwargs) -> Fault:
        f = Fault(**kwargs)
        with self.lock:
            self.faults.append(f)
        return f

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.matches(method, path):
                    if f.skip:
                        f.skip -= 1
                        continue
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                    return f
        return None

    def pending_fault(self, method: str, path: str) -> Fault | None:
        """The fault the next such request would meet (as take_fault picks it), left in place."""
        with self.lock:
            return next((f for f in self.faults if f.matches(method, path) and not f.skip), None)

    def claim_late(self, method: str, path: str, headers) -> bool:
        """For a client-side test helper, before it sends: when the next such request would meet a `late`
        fault, take that fault now (skips counted as the server would) and put a claim on it in the request's
        `headers` (CLAIM_HEADER); the handler then applies that fault, whenever its thread gets to the request.
        The fault is tied to the request at sending, so no later request (a retry) can meet it instead."""
        with self.lock:
            upcoming = self.pending_fault(method, path)
            if upcoming is None or not upcoming.late:
                return False
            fault = self.take_fault(method, path)  # the same fault: the first match not skipping
            claim = f"claim-{next(self._claims)}"
            self.claimed[claim] = fault
            headers[CLAIM_HEADER] = claim
            return True

    def api_requests(self) -> list[Logged]:
        return [e for e in self.log if e.path.startswith("/v4/")]


class Handler(BaseHTTPRequestHandler):
    api: SheetsAPI
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in two writes: with Nagle on, the body waits for the client's delayed ACK of
    #: the headers (40 ms a request on Linux loopback). Google's servers answer without that pause.
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet: tests read the log list instead
        pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def _send(self, status: int, payload: dict | None, headers: dict | None = None, method: str = "",
              path: str = "", query: dict | None = None, body: object = None) -> None:
        compact = (query or {}).get("prettyPrint", ["true"])[0].lower() == "false"
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False, indent=None if compact else 2,
                                                      separators=(",", ":") if compact else None).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        # Logged before the answer leaves: a client that has its answer must find its request in the log.
        with self.api.lock:
            self.api.log.append(Logged(method, path, query or {}, status, body))
        fault = getattr(self, "fault", None)
        if fault is not None and fault.truncate is not None:
            data = data[:fault.truncate]  # Content-Length still announces the whole body
            self.close_connection = True
        try:
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return  # the client gave up (a timeout we caused on purpose)

    def _error(self, status: int, message: str, state: str, **kw) -> None:
        self._send(status, {"error": {"code": status, "message": message, "status": state}}, **kw)

    def _handle(self, method: str) -> None:
        self.fault = None
        try:
            self._handle_request(method)
        finally:
            if self.fault is not None:
                self.fault.done.release()

    def _await_hangup(self, limit: float = 30.0) -> None:
        """Wait until the client closes its end of the connection (its read timed out), at most `limit` s."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.connection], [], [], 0.5)
            if ready:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return
                except OSError:
                    return

    def _handle_request(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path == "/token":
            return self._token(raw)
        if self.api.latency:
            time.sleep(self.api.latency)
        claim = self.headers.get(CLAIM_HEADER)
        with self.api.lock:
            fault = self.api.claimed.pop(claim, None) if claim else self.api.take_fault(method, path)
        self.fault = fault
        if fault:
            if fault.hold:
                fault.hold()
            if fault.late:
                self._await_hangup()
                self.close_connection = True
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault.before:
                with self.api.lock:
                    fault.before(self.api.store)
            if fault.status:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                state = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                         503: "UNAVAILABLE"}.get(fault.status, "UNKNOWN")
                message = fault.message or {
                           400: "You are trying to edit a protected cell or object. Please contact the spreadsheet "
                                "owner to remove protection if you need to edit.",
                           429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per "
                                "minute per user' of service 'sheets.googleapis.com'.",
                           503: "The service is currently unavailable."}.get(fault.status, "Internal error.")
                return self._error(fault.status, message, state, headers=headers, method=method, path=path,
                                   query=query)
        log = {"method": method, "path": path, "query": query}
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.api.tokens:
            return self._error(401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                    "token, login cookie or other valid authentication credential.",
                               "UNAUTHENTICATED", **log)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._send(400, BadRequest("Invalid JSON payload received.").envelope(), **log)
        try:
            route, args = contract.route(method, path)
            contract.check_params(route, query)
            contract.check_body(route, body)
            with self.api.lock:
                if args.get("spreadsheetId") in self.api.store.denied:
                    return self._error(403, "The caller does not have permission", "PERMISSION_DENIED", **log)
                self.api.store.caller = self.api.tokens[auth[7:]].get("iss") or self.api.store.caller
                payload = self._dispatch(route.name, args, query, body or {})
        except NotFound:
            return self._error(404, "Requested entity was not found.", "NOT_FOUND", **log)
        except BadRequest as exc:
            return self._send(400, exc.envelope(), **log, body=body)
        self._send(200, payload, **log, body=body)

    def _dispatch(self, name: str, args: dict, query: dict, body: dict) -> dict:
        store = self.api.store
        book = store.book(args["spreadsheetId"])
        one = {k: v[0] for k, v in query.items()}
        render = (one.get("valueRenderOption", "FORMATTED_VALUE"), one.get("dateTimeRenderOption", "SERIAL_NUMBER"))
        user_entered = one.get("valueInputOption") == "USER_ENTERED"
        if name == "spreadsheets.get":
            include = one.get("includeGridData", "false").lower() == "true"
            cell_fields = None
            if one.get("fields"):
                paths = contract.mask_paths(one["fields"])
                wanted = [p[4] for p in paths if p[:4] == ["sheets", "data", "rowData", "values"] and len(p) > 4]
                whole = any(p[:4] == ["sheets", "data", "rowData", "values"][:len(p)] and len(p) <= 4 for p in paths)
                cell_fields = None if whole or not wanted else set(wanted)
            result = store.metadata(book, include, query.get("ranges", []), cell_fields)
            return field_mask(result, one["fields"]) if one.get("fields") else result
        if name == "spreadsheets.batchUpdate":
            replies = store.batch_update(book, body.get("requests") or [])
            return {"spreadsheetId": book.spreadsheet_id, "replies": replies}
        if name == "spreadsheets.values.get":
            return store.values_get(book, args["range"], *render, one.get("majorDimension") or "ROWS")
        if name == "spreadsheets.values.batchGet":
            return {"spreadsheetId": book.spreadsheet_id,
                    "valueRanges": [store.values_get(book, r, *render, one.get("majorDimension") or "ROWS")
                                    for r in query.get("ranges", [])]}
        if name == "spreadsheets.values.update":
            _need_input_option(one)
            return store.values_write(book, args["range"], body.get("values") or [], user_entered)
        if name == "spreadsheets.values.batchUpdate":
            option = body.get("valueInputOption")
            if option not in ("RAW", "USER_ENTERED"):
                raise BadRequest("'valueInputOption' is required", "valueInputOption")
            responses = [store.values_write(book, d["range"], d.get("values") or [], option == "USER_ENTERED")
                         for d in body.get("data") or []]
            return {"spreadsheetId": book.spreadsheet_id, "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
                    "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
                    "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
                    "totalUpdatedSheets": len({r["updatedRange"].rpartition("!")[0] for r in responses}),
                    "responses": responses}
        if name == "spreadsheets.values.append":
            _need_input_option(one)
            return store.values_append(book, args["range"], body.get("values") or [], user_entered)
        if name == "spreadsheets.values.clear":
            return {"spreadsheetId": book.spreadsheet_id, "clearedRange": store.values_clear(book, args["range"])}
        if name == "spreadsheets.values.batchClear":
            return {"spreadsheetId": book.spreadsheet_id,
                    "clearedRanges": [store.values_clear(book, r) for r in body.get("ranges") or []]}
        raise BadRequest(f"The stand-in does not implement {name}")

    def _token(self, raw: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        claims = _jwt_claims(form.get("assertion", ""))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" or claims is None:
            return self._send(400, {"error": "invalid_grant", "error_description": "Invalid JWT."},
                              method="POST", path="/token")
        token = "ya29.standin-" + secrets.token_urlsafe(16)
        with self.api.lock:
            self.api.tokens[token] = claims
        self._send(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, method="POST",
                   path="/token")


def _need_input_option(one: dict) -> None:
    if one.get("valueInputOption") not in ("RAW", "USER_ENTERED"):
        raise BadRequest("'valueInputOption' is required but not specified", "valueInputOption")


def _jwt_claims(assertion: str) -> dict | None:
    try:
        payload = assertion.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None


def field_mask(obj: object, mask: str) -> object:
    """Keep only the fields a `fields=` mask names; empty objects are dropped as Google does."""
    tree: dict = {}
    for path in contract.mask_paths(mask):
        node = tree
        for part in path:
            node = node.setdefault(part, {})
    return _prune(obj, tree)


def _prune(obj: object, tree: dict) -> object:
    if not tree:
        return obj
    if isinstance(obj, list):
        return [_prune(item, tree) for item in obj]
    if isinstance(obj, dict):
        out = {}
        for key, sub in tree.items():
            if key in obj:
                value = _prune(obj[key], sub)
                if value not in ({},) or isinstance(obj[key], list):
                    out[key] = value
        return out
    return obj


class StandIn(ThreadingHTTPServer):
    """The HTTP server; `stop()` returns at once instead of waiting for the serve loop's next poll."""

    daemon_threads = True

    def stop(self) -> None:
        stopper = threading.Thread(target=self.shutdown)
        stopper.start()
        try:  # wake the serve loop's select() so it sees the shutdown request now
            socket.create_connection(self.server_address[:2], timeout=1).close()
        except OSError:
            pass
        stopper.join()
        self.server_close()


def serve(api: SheetsAPI, port: int = 0) -> tuple[StandIn, threading.Thread]:
    handler = type("BoundHandler", (Handler,), {"api": api})
    server = StandIn(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
