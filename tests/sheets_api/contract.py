"""Strictness from the API's own discovery document: route a request to its method, and reject what
real Google would reject — an unknown path or query parameter, a body field the schema does not have,
a wrong type or enum value, an update request without its `fields` mask, a `fields=` query mask naming a
field the method's answer does not have (reads included) — with the 400 envelope.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

DISCOVERY = json.loads((Path(__file__).parent / "discovery.json").read_text(encoding="utf-8"))
SCHEMAS = DISCOVERY["schemas"]
GLOBAL_PARAMS = DISCOVERY["parameters"]

#: Update requests whose `fields` mask is required, and the schema the mask is rooted at.
MASKED = {"UpdateCellsRequest": "CellData", "RepeatCellRequest": "CellData", "AppendCellsRequest": "CellData",
          "UpdateSheetPropertiesRequest": "SheetProperties", "UpdateDimensionPropertiesRequest": "DimensionProperties",
          "UpdateSpreadsheetPropertiesRequest": "SpreadsheetProperties",
          "UpdateProtectedRangeRequest": "ProtectedRange"}


class BadRequest(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    def envelope(self) -> dict:
        error = {"code": 400, "message": str(self), "status": "INVALID_ARGUMENT"}
        if self.field:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                 "fieldViolations": [{"field": self.field, "description": str(self)}]}]
        return {"error": error}


@dataclass(frozen=True)
class Route:
    name: str        # spreadsheets.values.batchGet
    http: str        # GET
    pattern: re.Pattern
    method: dict     # the discovery entry


def _methods(resource: dict, prefix: str):
    for name, method in resource.get("methods", {}).items():
        yield f"{prefix}.{name}", method
    for name, sub in resource.get("resources", {}).items():
        yield from _methods(sub, f"{prefix}.{name}")


def _routes() -> list[Route]:
    out = []
    for name, method in _methods(DISCOVERY["resources"]["spreadsheets"], "spreadsheets"):
        regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/:]+)", re.escape(method["flatPath"]).replace(
            r"\{", "{").replace(r"\}", "}"))
        out.append(Route(name, method["httpMethod"], re.compile(f"^/{regex}$"), method))
    return out


ROUTES = _routes()


def route(http: str, raw_path: str) -> tuple[Route, dict[str, str]]:
    for r in ROUTES:
        m = r.pattern.match(raw_path)
        if m and r.http == http:
            return r, {k: unquote(v) for k, v in m.groupdict().items()}
    raise BadRequest(f"Unknown path or method: {http} {raw_path}")


def check_params(r: Route, query: dict[str, list[str]]) -> None:
    params = {**GLOBAL_PARAMS, **{k: v for k, v in r.method.get("parameters", {}).items() if v["location"] == "query"}}
    for key, values in query.items():
        spec = params.get(key)
        if spec is None:
            raise BadRequest(f"Invalid JSON payload received. Unknown name \"{key}\": Cannot bind query parameter.",
                             key)
        if len(values) > 1 and not spec.get("repeated"):
            raise BadRequest(f"Query parameter '{key}' is not repeated", key)
        for value in values:
            if "enum" in spec and value not in spec["enum"]:
                raise BadRequest(f"Invalid value at '{key}' ({value})", key)
            if spec.get("type") == "boolean" and value not in ("true", "false", "True", "False"):
                raise BadRequest(f"Invalid value at '{key}' (TYPE_BOOL), \"{value}\"", key)
            if spec.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
                raise BadRequest(f"Invalid value at '{key}' (TYPE_INT32), \"{value}\"", key)
    for mask in query.get("fields", []):
        check_response_mask(r, mask)


def check_response_mask(r: Route, mask: str) -> None:
    """A read's (or any answer's) `fields=` mask names only fields of the method's response schema, as Google
    checks it: a path it cannot find (a misspelt field, one of another message, a stray space) is a 400."""
    ref = r.method.get("response", {}).get("$ref")
    if ref is None:
        return
    for parts in mask_paths(mask, strip=False):
        schema: dict = SCHEMAS[ref]
        for part in parts:
            if part == "*":
                break  # every field from here down
            props = schema.get("properties", {})
            if part not in props:
                raise BadRequest(f"Error expanding 'fields' parameter. Cannot find matching fields for path "
                                 f"'{'.'.join(parts)}'.", "fields")
            sub = props[part]
            sub = sub.get("items", sub)
            schema = SCHEMAS[sub["$ref"]] if "$ref" in sub else sub


def check_body(r: Route, body: object) -> None:
    ref = r.method.get("request", {}).get("$ref")
    if ref is None:
        if body not in (None, {}, b"", ""):
            raise BadRequest("This method takes no request body")
        return
    if body is None:
        return  # an empty body is an empty message (values:clear is sent without one)
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON payload received. Expected an object.")
    _check(body, {"$ref": ref}, "")


def _check(value: object, schema: dict, path: str) -> None:
    if value is None:
        return  # explicit null is accepted for every optional field (gspread 6 sends several)
    if "$ref" in schema:
        name = schema["$ref"]
        schema = SCHEMAS[name]
        if name in MASKED and isinstance(value, dict):
            _check_mask(value.get("fields"), MASKED[name], path)
    kind = schema.get("type")
    where = path or "(root)"
    if kind == "object":
        if not isinstance(value, dict):
            raise BadRequest(f"Invalid value at '{where}': expected an object", where)
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                _check(sub, props[key], f"{path}.{key}" if path else key)
            elif extra is not None:
                _check(sub, extra, f"{path}.{key}" if path else key)
            else:
                raise BadRequest(f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                                 "Cannot find field.", f"{path}.{key}" if path else key)
    elif kind == "array":
        if not isinstance(value, list):
            raise BadRequest(f"Invalid value at '{where}': expected a list", where)
        for i, item in enumerate(value):
            _check(item, schema.get("items", {}), f"{path}[{i}]")
    elif kind == "string":
        numeric = schema.get("format") in ("int64", "uint64") and isinstance(value, int) and not isinstance(value,
                                                                                                              bool)
        if not isinstance(value, str) and not numeric:
            raise BadRequest(f"Invalid value at '{where}' (TYPE_STRING), {json.dumps(value)}", where)
        if "enum" in schema and value not in schema["enum"]:
            raise BadRequest(f"Invalid value at '{where}' (type.googleapis.com/enum), \"{value}\"", where)
    elif kind == "integer":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise BadRequest(f"Invalid value at '{where}' (TYPE_INT32), {json.dumps(value)}", where)
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadRequest(f"Invalid value at '{where}' (TYPE_DOUBLE), {json.dumps(value)}", where)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise BadRequest(f"Invalid value at '{where}' (TYPE_BOOL), {json.dumps(value)}", where)


def mask_paths(mask: str, strip: bool = True) -> list[list[str]]:
    """'a,b(c,d),e/f' → [[a], [b, c], [b, d], [e, f]]: the field-mask grammar Google accepts. With `strip` off,
    spaces are kept in the names, as Google's parser keeps them ('a, b' names the field ' b', which no message
    has)."""
    out, stack, token = [], [[]], ""

    def flush():
        nonlocal token
        if token:
            out.append(stack[-1] + [p for p in re.split(r"[./]", token) if p])
        token = ""

    for ch in mask:
        if ch == "(":
            stack.append(stack[-1] + [p for p in re.split(r"[./]", token) if p])
            token = ""
        elif ch == ")":
            flush()
            stack.pop()
        elif ch == ",":
            flush()
        else:
            token += ch.strip() if strip else ch
    flush()
    return out


def _check_mask(mask: object, root: str, path: str) -> None:
    where = f"{path}.fields" if path else "fields"
    if not mask:
        raise BadRequest(f"Invalid requests: At least one field must be specified in '{where}'.", where)
    if mask == "*":
        return
    for parts in mask_paths(str(mask)):
        schema = SCHEMAS[root]
        for part in parts:
            props = schema.get("properties", {})
            if part not in props:
                raise BadRequest(f"Invalid field mask '{mask}' at '{where}': '{part}' is not a field of {root}.",
                                 where)
            sub = props[part]
            sub = sub.get("items", sub)
            schema = SCHEMAS[sub["$ref"]] if "$ref" in sub else sub
