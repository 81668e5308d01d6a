"""Request bodies for what keeps units in their own rows on the Google Sheet: pure, no HTTP.

* typed input (`input_requests`): setDataValidation that warns (strict: false) with a Vietnamese help message;
* rows by unit (`row_requests`): one protected range per run of a unit's rows, editors the unit's addresses, the
  Office's and the service account. Sorting or inserting rows moves the rows but not the ranges, so each pass
  compares the ranges the read showed with where the rows are now: a range still right is kept, a range no
  longer right is deleted, a missing one added; a pass with nothing moved sends none of these requests;
* saved views (`view_requests`): a filter view per unit and one of open items, added where missing; a view of
  ours a unit renamed is named back, with a message.

All of it rides in the pass's one spreadsheets.batchUpdate (`extra`). Google refuses the whole batch when it
refuses one editor (an address outside the organisation, say): `without_extras` tells the backend to send the
batch again without these requests, so the cells are still written, and says why.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from sync.core.schema import fold
from sync.core.tables import letters
from sync.core.workbook import InputRule, RowOwners, TabFormat, ViewSpec, WriteSet

Json = dict[str, Any]

#: Description of the protected range of a unit's rows. Not the "[CCHC] " tag of the job's other protected ranges:
#: `init` deletes and adds those wholesale, these are kept while they still fit.
ROW_TAG = "[CCHC đơn vị] "
#: Fields of the filter views the read asks for (google_requests.META_FIELDS).
VIEW_FIELDS = "filterViews(filterViewId,title,range,filterSpecs)"


# --- typed input -------------------------------------------------------------------------------------------

def input_requests(sid: int, fmt: TabFormat, need: Callable[[str, int, int], None]) -> list[Json]:
    """One setDataValidation per rule of `fmt`; `need` grows the grid to hold its range."""
    out = []
    for rule in fmt.inputs:
        need(fmt.tab, rule.last_row, rule.column)
        out.append({"setDataValidation": {
            "range": {"sheetId": sid, "startRowIndex": rule.first_row - 1, "endRowIndex": rule.last_row,
                      "startColumnIndex": rule.column - 1, "endColumnIndex": rule.column},
            "rule": {"condition": _condition(rule), "inputMessage": _message(rule), "strict": False}}})
    return out


def _condition(rule: InputRule) -> Json:
    cell = f"{letters(rule.column)}{rule.first_row}"  # relative: Sheets moves it down the range
    if rule.kind == "date":
        return {"type": "DATE_IS_VALID"}
    if rule.kind == "whole":
        return {"type": "CUSTOM_FORMULA",
                "values": [{"userEnteredValue": f"=AND(ISNUMBER({cell}),{cell}>=0,{cell}=INT({cell}))"}]}
    return {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "=TRUE"}]}  # the message alone


def _message(rule: InputRule) -> str:
    return rule.message + (f" ({rule.warning})" if rule.warning else "")


# --- the pass's additions ---------------------------------------------------------------------------------

def extra(meta: dict[str, Json], requests_: list[Json], changes: WriteSet, account: str) -> tuple[list[Json],
                                                                                                   list[str]]:
    """The requests to append to the batch `requests_` (built from `changes`), and what to tell the Office."""
    ids = {t: s["properties"]["sheetId"] for t, s in meta.items()}
    ids.update({r["addSheet"]["properties"]["title"]: r["addSheet"]["properties"]["sheetId"]
                for r in requests_ if "addSheet" in r})
    out: list[Json] = []
    said: list[str] = []
    if changes.row_owners is not None and changes.row_owners.tab in ids:
        out += row_requests(changes.row_owners, ids[changes.row_owners.tab],
                            meta.get(changes.row_owners.tab, {}).get("protectedRanges", []), account)
    for spec in changes.views:
        if spec.tab in ids:
            requests, note = view_requests(spec, ids[spec.tab], meta.get(spec.tab, {}).get("filterViews", []))
            out += requests
            said += [note] if note else []
    return out, said


def row_requests(owners: RowOwners, sid: int, existing: list[Json], account: str) -> list[Json]:
    """Delete our ranges that no longer fit the rows, add those missing; keep the rest untouched."""
    wanted: list[Json] = []
    for unit in owners.units:
        users = sorted(dict.fromkeys([*unit.editors, account.lower()]))
        for first, last in unit.runs:
            wanted.append({"range": {"sheetId": sid, "startRowIndex": first - 1, "endRowIndex": last,
                                     "startColumnIndex": 0, "endColumnIndex": owners.last_col},
                           "description": row_description(unit.name, users), "warningOnly": False,
                           "editors": {"users": users}})
    by_place = {_place(w): w for w in wanted}  # a unit's runs never overlap: one wanted range per place
    out: list[Json] = []
    for old in existing:
        if not (old.get("description") or "").startswith(ROW_TAG):
            continue
        match = by_place.get(_place(old))
        if match is not None and _fits(old, match):
            del by_place[_place(old)]
        else:
            out.append({"deleteProtectedRange": {"protectedRangeId": old["protectedRangeId"]}})
    return out + [{"addProtectedRange": {"protectedRange": w}} for w in by_place.values()]


def _place(pr: Json) -> tuple[Any, ...]:
    g = pr.get("range", {})
    return (pr.get("description"), *(g.get(k, 0) for k in ("startRowIndex", "endRowIndex", "startColumnIndex",
                                                            "endColumnIndex")))


def row_description(unit: str, users: list[str]) -> str:
    """What the Sheets UI lists for a unit's range: the unit, and a code of the editors we gave it, so a range whose
    editors we would now give otherwise (an address changed in the plan) no longer fits and is replaced."""
    code = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:6]
    return f"{ROW_TAG}{unit} (mã {code})"


def _fits(old: Json, want: Json) -> bool:
    """Same unit and editors (by the description), same rows and columns, and every editor we gave still there
    (Google lists others too, such as the file's owner)."""
    if _place(old) != _place(want) or old.get("warningOnly", False):
        return False
    have = {fold(u) for u in (old.get("editors") or {}).get("users", [])}
    return {fold(u) for u in want["editors"]["users"]} <= have


def view_requests(spec: ViewSpec, sid: int, existing: list[Json]) -> tuple[list[Json], str | None]:
    """Nothing when the view is there; its name back when a unit renamed it; else add it."""
    if any(fold(v.get("title")) == fold(spec.title) for v in existing):
        return [], None
    body = _view(spec, sid)
    renamed = next((v for v in existing if _signature(v) == _signature(body)), None)
    if renamed is not None:
        return ([{"updateFilterView": {"filter": {"filterViewId": renamed["filterViewId"], "title": spec.title},
                                       "fields": "title"}}],
                f"Chế độ lọc '{renamed.get('title', '')}' của tab '{spec.tab}' là chế độ '{spec.title}' bị đổi tên; "
                f"đã đặt lại tên '{spec.title}' (hướng dẫn và README dùng tên này). Muốn một chế độ lọc riêng, hãy "
                "tạo chế độ mới thay vì đổi tên.")
    return [{"addFilterView": {"filter": body}}], None


def _view(spec: ViewSpec, sid: int) -> Json:
    criteria: Json = {"condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": spec.shown}]}} \
        if spec.shown else {"hiddenValues": list(spec.hidden)}
    body: Json = {"title": spec.title,
                  "range": {"sheetId": sid, "startRowIndex": 0, "startColumnIndex": 0, "endColumnIndex": spec.last_col},
                  "filterSpecs": [{"columnIndex": spec.column - 1, "filterCriteria": criteria}]}
    if spec.sort_column:
        body["sortSpecs"] = [{"dimensionIndex": spec.sort_column - 1, "sortOrder": "ASCENDING"}]
    return body


def _signature(view: Json) -> tuple[Any, ...]:
    """What a view shows, whatever its title: its filtered column and the values shown or hidden."""
    specs = view.get("filterSpecs") or []
    if len(specs) != 1:
        return ()
    criteria = specs[0].get("filterCriteria") or {}
    shown = tuple(fold(v.get("userEnteredValue")) for v in (criteria.get("condition") or {}).get("values", []))
    return specs[0].get("columnIndex", 0), shown, tuple(fold(v) for v in criteria.get("hiddenValues", []))


# --- a batch refused for one of these requests ----------------------------------------------------------------

def without_extras(message: str, base: int, extras: list[Json]) -> str | None:
    """When Google's 400 `message` names one of the `extras` (appended after `base` requests): what to say, and the
    backend sends the batch again without them (batchUpdate is all-or-nothing: nothing was applied). None: the
    refusal is about another request."""
    found = re.search(r"requests\[(\d+)\]", message)
    if not extras or not found or not base <= int(found.group(1)) < base + len(extras):
        return None
    return (f"Google từ chối phần khóa dòng theo đơn vị hoặc chế độ lọc ({message.strip()}); các ô của lượt chạy "
            "vẫn được ghi, phần này chưa được cập nhật. Kiểm tra các địa chỉ trong 'google.office_editors' và "
            "'units[].email' của tệp kế hoạch: địa chỉ ngoài tổ chức có thể không được phép sửa bảng tính.")
