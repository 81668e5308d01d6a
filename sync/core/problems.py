"""Errors of the libraries (YAML, pydantic, argparse) told in Vietnamese: the file, the line, the key, the fix.

One translator serves the settings file (config.py) and the plan file (plan.py): a problem reads
`dòng 12, khóa 'mail.smtp.port': phải là một số nguyên (đang là 'abc')`. The line comes from the
YAML itself (each node keeps its mark), so it points at the key the Office has to change.
Values are echoed to help find them, except for keys that may hold a secret pasted by mistake.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sync.core.errors import UserError
from sync.core.schema import NOT_IN_DOCUMENTS, closest

#: Keys whose value is never repeated in a message (a password may have been pasted there).
SECRET_KEYS = frozenset({"mail.smtp.password_env"})


# --- YAML ----------------------------------------------------------------------------------------------

_YAML_PROBLEMS = (  # (start of PyYAML's problem text, what it means, how to fix it)
    ("found character '\\t'", "có ký tự Tab", "YAML chỉ cho thụt lề bằng dấu cách: thay mọi Tab bằng dấu cách"),
    ("found character", "có ký tự không được phép ở đầu một giá trị",
     "đặt giá trị trong ngoặc kép, ví dụ \"@abc\""),
    ("mapping values are not allowed", "có dấu ':' ở chỗ không được phép",
     "đặt giá trị chứa ': ' trong ngoặc kép, hoặc xuống dòng và thụt lề đúng dưới khóa cha"),
    ("could not find expected ':'", "thiếu dấu ':' sau tên khóa", "viết 'khóa: giá trị'"),
    ("did not find expected key", "thụt lề không khớp với các khóa phía trên",
     "thụt lề khóa này bằng đúng số dấu cách như các khóa cùng cấp"),
    ("did not find expected '-' indicator", "danh sách thụt lề không khớp", "mỗi mục bắt đầu bằng '- ' thẳng cột"),
    ("expected <block end>", "thụt lề không khớp với các khóa phía trên",
     "thụt lề khóa này bằng đúng số dấu cách như các khóa cùng cấp"),
    ("did not find expected ',' or ']'", "thiếu dấu ']' hoặc ',' trong danh sách [ ]", "đóng ngoặc ']'"),
    ("did not find expected ',' or '}'", "thiếu dấu '}' hoặc ',' trong bảng { }", "đóng ngoặc '}'"),
    ("expected ',' or ']'", "thiếu dấu ']' hoặc ',' trong danh sách [ ]", "đóng ngoặc ']'"),
    ("expected ',' or '}'", "thiếu dấu '}' hoặc ',' trong bảng { }", "đóng ngoặc '}'"),
    ("found unexpected end of stream", "chuỗi trong ngoặc kép chưa được đóng", "thêm dấu ngoặc kép đóng"),
    ("found unexpected end", "tệp kết thúc giữa chừng (thiếu ngoặc đóng?)", "đóng mọi ngoặc và dấu nháy"),
    ("found undefined alias", "có dấu '*' ở đầu giá trị (YAML hiểu là tham chiếu)",
     "đặt giá trị trong ngoặc kép"),
    ("found unknown escape character", "có dấu '\\' không hợp lệ trong chuỗi ngoặc kép",
     "dùng ngoặc đơn '…' hoặc viết '\\\\'"),
    ("found duplicate anchor", "có dấu '&' ở đầu giá trị", "đặt giá trị trong ngoặc kép"),
    ("expected alphabetic or numeric character", "có dấu '&' hoặc '*' ở đầu giá trị",
     "đặt giá trị trong ngoặc kép"),
    ("found a tab character", "có ký tự Tab", "YAML chỉ cho thụt lề bằng dấu cách: thay mọi Tab bằng dấu cách"),
)


def _label(path: Path, what: str, key: str | None) -> str:
    return f"{what} '{path}'" + (f" (khóa cấu hình '{key}')" if key else "")


def yaml_problem(exc: yaml.YAMLError, path: Path, what: str, key: str | None = None) -> UserError:
    """`what` names the file for the Office ("Tệp cấu hình", "Tệp kế hoạch"); `key`, the setting naming it.

    The text around the fault is never repeated (it may hold a secret); the line and column say where."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" ở dòng {mark.line + 1}, cột {mark.column + 1}" if mark else ""
    problem = str(getattr(exc, "problem", "") or "")
    meaning, fix = "cú pháp YAML sai", "so với config/settings.example.yaml hoặc một tệp mẫu"

    for start, text, how in _YAML_PROBLEMS:
        if problem.startswith(start):
            meaning, fix = text, how
            break
    return UserError(f"{_label(path, what, key)} không phải YAML hợp lệ{where}: {meaning}. Sửa: {fix}.")


class DuplicateKey(yaml.YAMLError):
    """A key written twice in one mapping: PyYAML keeps the last silently; the Office meant one of them."""

    def __init__(self, key: str, first: int, second: int):
        super().__init__(f"duplicate key {key!r} at lines {first} and {second}")
        self.key, self.first, self.second = key, first, second


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in the same mapping (merge keys '<<' excepted)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:  # an unhashable key: PyYAML's own check reports it
                    continue
                if first != key_node.start_mark.line + 1:
                    raise DuplicateKey(str(key), first, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


#: A settings or plan file larger than this is not one (the 2024 plan is ~40 KB): refused before it is read.
MAX_YAML_BYTES = 2 * 1024 * 1024
#: Values a YAML file may hold once its aliases are followed (`*a` repeats a whole block): a file of a few
#: lines can otherwise stand for billions of them.
MAX_YAML_NODES = 200_000


def read_bounded(path: Path, limit: int, label: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. A device (/dev/zero), a FIFO (which would block
    until someone writes to it) or a socket is refused without being opened, a larger file without being read."""
    import stat
    mode = path.stat().st_mode  # FileNotFoundError passes through; a folder is the caller's message
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(str(path))
    if not stat.S_ISREG(mode):
        raise UserError(f"{label} không phải là một tệp thường (thiết bị, đường ống hay socket). Sửa: chỉ đến một "
                        "tệp .yaml.")
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UserError(f"{label} lớn hơn {limit // (1024 * 1024)} MB, không phải tệp cấu hình hay kế hoạch. Sửa: "
                        "chỉ đến đúng tệp .yaml.")
    return data


def _bounded_load(text: str, label: str) -> object:
    """YAML with duplicate keys refused, and its size once aliases are followed, and its depth, bounded."""
    loader = _UniqueKeyLoader(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _expanded_size(node) > MAX_YAML_NODES:
                many = f"{MAX_YAML_NODES:_}".replace("_", ".")
                raise UserError(f"{label} chứa quá nhiều giá trị khi mở rộng các tham chiếu YAML (*, &; hơn {many} "
                                "giá trị). Sửa: viết thẳng giá trị, không dùng tham chiếu lồng nhau.")
            return loader.construct_document(node)
        except RecursionError:
            raise UserError(f"{label} có các khối lồng nhau quá sâu (hàng trăm cấp ngoặc [ ] hoặc {{ }}). Sửa: so "
                            "với config/settings.example.yaml; tệp cấu hình chỉ cần vài cấp.") from None
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document stands for with every alias followed, counted without expanding it: each
    node's size is computed once (post-order, without recursion), however many aliases use it."""
    def children(node: yaml.Node) -> list[yaml.Node]:
        if isinstance(node, yaml.MappingNode):
            return [v for pair in node.value for v in pair]
        return list(node.value) if isinstance(node, yaml.SequenceNode) else []
    sizes: dict[int, int] = {}
    started: set[int] = set()
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, ready = todo.pop()
        if id(node) in sizes:
            continue
        if ready:
            sizes[id(node)] = min(1 + sum(sizes.get(id(c), 0) for c in children(node)), MAX_YAML_NODES + 1)
        elif id(node) not in started:  # a node that holds itself (`&a [*a]`) is counted once
            started.add(id(node))
            todo.append((node, True))
            todo.extend((c, False) for c in children(node))
    return sizes[id(root)]


def load_yaml(path: Path, what: str, key: str | None = None) -> tuple[object, str]:
    """The file's data (whatever the YAML holds: the caller checks its shape) and its text, or a Vietnamese
    UserError for bad YAML (FileNotFoundError passes through)."""
    try:
        text = read_bounded(Path(path), MAX_YAML_BYTES, _label(path, what, key)).decode("utf-8")
    except IsADirectoryError:
        raise UserError(f"{_label(path, what, key)} là một thư mục, không phải tệp. Sửa: chỉ đến tệp .yaml.") from None
    except PermissionError:
        raise UserError(f"{_label(path, what, key)}: người chạy chương trình không có quyền đọc tệp này. Sửa: "
                        f"'chmod a+r {path}' hoặc 'chown' cho người dùng chạy cron/daemon.") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{_label(path, what, key)} không phải văn bản UTF-8 (byte thứ {exc.start + 1}). Sửa: mở "
                        "tệp bằng trình soạn thảo và lưu lại với bảng mã UTF-8.") from None
    try:
        data = _bounded_load(text, _label(path, what, key))
    except DuplicateKey as exc:
        raise UserError(f"{_label(path, what, key)}: khóa '{exc.key}' được viết hai lần, ở dòng {exc.first} và dòng "
                        f"{exc.second} (chỉ được viết một lần; không rõ giá trị nào là đúng). Sửa: giữ một dòng, xóa "
                        "dòng kia.") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a pasted control character)
        at = text[:exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else 0
        raise UserError(f"{_label(path, what, key)} ở dòng {at}: có ký tự không được phép (mã U+{code:04X}, thường "
                        "là ký tự điều khiển dán nhầm, như Shift+Enter của Word). Sửa: xóa ký tự đó.") from None
    except yaml.YAMLError as exc:
        raise yaml_problem(exc, path, what, key) from None
    except ValueError:  # a date that does not exist (2024-02-30): PyYAML's date constructor refuses it
        line = _bad_date_line(text)
        raise UserError(f"{_label(path, what, key)}{f' ở dòng {line}' if line else ''}: ngày không có thật trên lịch. "
                        "Sửa: viết một ngày có thật, dạng YYYY-MM-DD (ví dụ 2024-02-29).") from None
    _refuse_undocumentable(data, _label(path, what, key))
    return data, text


def _refuse_undocumentable(data: object, label: str, where: tuple[str, ...] = ()) -> None:
    """A text the workbook or the report could not hold (a control character pasted in, a YAML escape such as
    "\\v" or "\\uFFFE"), refused here with its key rather than as a failed write later."""
    if isinstance(data, dict):
        for k, v in data.items():
            _refuse_undocumentable(k, label, where)
            _refuse_undocumentable(v, label, (*where, str(k)))
    elif isinstance(data, list):
        for i, v in enumerate(data, start=1):
            _refuse_undocumentable(v, label, (*where, str(i)))
    elif isinstance(data, str) and (found := NOT_IN_DOCUMENTS.search(data)):
        at = f" (mục '{'.'.join(where)}')" if where else ""
        raise UserError(f"{label}{at}: có ký tự không ghi được vào bảng tính hay báo cáo (mã "
                        f"U+{ord(found.group()):04X}, vị trí {found.start() + 1}: thường là ký tự điều khiển dán "
                        "nhầm). Sửa: xóa ký tự đó.")


def _bad_date_line(text: str) -> int | None:
    loader = yaml.SafeLoader("")
    todo = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            todo.extend(v for pair in node.value for v in pair)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                loader.construct_yaml_timestamp(node)
            except ValueError:
                return node.start_mark.line + 1
    return None


# --- pydantic -------------------------------------------------------------------------------------------

#: One part of pydantic's `loc`: a key, a list index, or a tag naming a union member.
LocPart = int | str
Loc = tuple[LocPart, ...]


@dataclass(frozen=True)
class _Error:
    """The parts of one pydantic error (or of one located problem) the translation reads."""

    kind: str
    loc: Loc
    msg: str
    ctx: Mapping[str, object] = field(default_factory=dict)
    has_input: bool = False
    input: object = None


def _is_tag(part: LocPart) -> bool:
    """Parts of pydantic's `loc` that name a union member or a dict key, not a key of the file."""
    return isinstance(part, str) and (part in {"str", "int", "float", "bool", "none"} or "[" in part or "(" in part)


def _key(loc: Loc) -> str:
    out = ""
    for part in loc:
        if _is_tag(part):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line(root: yaml.Node | None, loc: Loc, key_itself: bool) -> int | None:
    """The 1-based line of the value at `loc` (or of its key, for an unknown key); the nearest parent's
    line when the key is missing."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if _is_tag(part) or node is None:
            break
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)),
                         None)
            if found is None:
                break
            line = (found[0] if key_itself and part == loc[-1] else found[1]).start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _model_at(model: type[BaseModel] | None, loc: Loc) -> type[BaseModel] | None:
    """The pydantic model that holds the last part of `loc` (for suggesting a misspelt key)."""
    for part in loc[:-1]:
        if model is None or isinstance(part, int) or _is_tag(part):
            continue
        field = model.model_fields.get(str(part)) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else next(
            (a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return model


def _shown(value: object) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value) if not isinstance(value, bool) else str(value).lower()
        return text if len(text) <= 60 else text[:57] + "…'"
    if isinstance(value, dict):
        return "một bảng khóa"
    return "một danh sách" if isinstance(value, list) else "giá trị khác"


def _expected(ctx: Mapping[str, object]) -> str:
    return ", ".join(re.findall(r"'[^']*'|\d+", str(ctx.get("expected", ""))))


_TYPES = {  # pydantic error type → what the value must be
    "dict_type": "phải là một bảng 'khóa: giá trị' (các khóa con thụt lề bên dưới)",
    "model_type": "phải là một bảng 'khóa: giá trị' (các khóa con thụt lề bên dưới)",
    "model_attributes_type": "phải là một bảng 'khóa: giá trị' (các khóa con thụt lề bên dưới)",
    "list_type": "phải là một danh sách (ví dụ [a, b], hoặc mỗi mục một dòng bắt đầu bằng '- ')",
    "string_type": "phải là một chuỗi chữ",
    "int_type": "phải là một số nguyên", "int_parsing": "phải là một số nguyên",
    "int_from_float": "phải là một số nguyên (không có phần thập phân)",
    "float_type": "phải là một số", "float_parsing": "phải là một số",
    "bool_type": "phải là true hoặc false", "bool_parsing": "phải là true hoặc false",
    "date_type": "phải là một ngày dạng YYYY-MM-DD (ví dụ 2024-09-20)",
    "date_parsing": "phải là một ngày dạng YYYY-MM-DD (ví dụ 2024-09-20)",
    "date_from_datetime_parsing": "phải là một ngày dạng YYYY-MM-DD (ví dụ 2024-09-20)",
    "date_from_datetime_inexact": "phải là một ngày, không kèm giờ (YYYY-MM-DD)",
    "time_type": "phải là giờ dạng \"HH:MM\" trong ngoặc kép (ví dụ \"17:30\")",
    "time_parsing": "phải là giờ dạng \"HH:MM\" trong ngoặc kép (ví dụ \"17:30\")",
    "path_type": "phải là một đường dẫn tệp",
    "none_required": "phải để trống",
    "string_too_short": "không được để trống",
    "too_short": "cần ít nhất một mục",
}


def _what(error: _Error, model: type[BaseModel] | None) -> str:
    kind, ctx, loc = error.kind, error.ctx, error.loc
    if kind == "missing":
        return "thiếu khóa bắt buộc này. Sửa: thêm khóa (xem tệp mẫu)"
    if kind == "extra_forbidden":
        holder = _model_at(model, loc)
        known = [f.alias or n for n, f in holder.model_fields.items()] if holder else []
        hint = closest(str(loc[-1]), known) if known else None
        return ("khóa này không được hỗ trợ" + (f" (có phải '{hint}'?)" if hint else "")
                + ". Sửa: sửa chính tả hoặc xóa khóa")
    if kind in ("literal_error", "enum"):
        return f"giá trị không hợp lệ; chọn một trong: {_expected(ctx)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
        return {"greater_than": f"phải lớn hơn {bound}", "greater_than_equal": f"phải từ {bound} trở lên",
                "less_than": f"phải nhỏ hơn {bound}", "less_than_equal": f"không được lớn hơn {bound}"}[kind]
    if kind.startswith("cchc_"):  # this project's own PydanticCustomError: its message is the Office's text
        return error.msg
    if kind in ("value_error", "assertion_error"):
        msg = str(ctx.get("error", error.msg))
        return re.sub(r"^(Value error|Assertion failed), ", "", msg)
    return _TYPES.get(kind, f"giá trị không hợp lệ (loại lỗi '{kind}')")


def _pairs(located: object) -> list[tuple[Loc, str]]:
    """The (loc, message) pairs of a `cchc_located` error's `problems` (pydantic types its context as Any)."""
    if not isinstance(located, Iterable) or isinstance(located, str):
        return []
    out = []
    for pair in located:
        if isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], tuple):
            out.append((tuple(p if isinstance(p, int) else str(p) for p in pair[0]), str(pair[1])))
    return out


def _located(errors: list[ErrorDetails]) -> list[_Error]:
    """A check across keys (a model validator) reports each of its problems with the key it is about, in the
    context's `problems` as (loc, message) pairs: one error per problem, at that key, instead of one error at the
    whole file."""
    out = []
    for error in errors:
        ctx = error.get("ctx") or {}
        located = _pairs(ctx.get("problems"))
        if not located:
            out.append(_Error(error["type"], tuple(error["loc"]), error["msg"], ctx, "input" in error,
                              error.get("input")))
            continue
        out.extend(_Error("cchc_located", loc, msg) for loc, msg in located)
    return out


def validation_problems(exc: ValidationError, model: type[BaseModel] | None, text: str = "") -> list[str]:
    """One Vietnamese line per problem: the line in the file, the key, what is wrong and how to fix it."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader) if text else None
    except yaml.YAMLError:
        root = None
    lines: dict[str, tuple[int | None, list[str], _Error]] = {}
    for error in _located(exc.errors()):
        key = _key(error.loc)
        what = _what(error, model)
        entry = lines.setdefault(key, (_line(root, error.loc, error.kind == "extra_forbidden"), [], error))
        if what not in entry[1]:
            entry[1].append(what)
    out = []
    for key, (line, whats, error) in sorted(lines.items(), key=lambda item: item[1][0] or 0):
        where = (f"dòng {line}, " if line else "") + (f"khóa '{key}'" if key else "toàn bộ tệp")
        value = ""
        if key not in SECRET_KEYS and error.kind not in ("missing", "extra_forbidden") and error.has_input:
            value = f" (đang là {_shown(error.input)})"
        # a union (e.g. a string or a list) fails once per member: one line saying either will do
        what = whats[0] if len(whats) == 1 else " hoặc ".join(w.removeprefix("phải là ") if i else w
                                                               for i, w in enumerate(whats))
        out.append(f"{where}: {what}{value}")
    return out


# --- argparse --------------------------------------------------------------------------------------------

_ARGPARSE = (  # Python's argparse messages (3.11–3.13) → Vietnamese
    (r"the following arguments are required: (?P<a>.+)", "thiếu tham số bắt buộc: {a}"),
    (r"unrecognized arguments: (?P<a>.+)", "tham số không nhận ra: {a}. Xem danh sách bằng --help"),
    (r"invalid choice: (?P<v>.+?) \(choose from (?P<c>.+)\)", "lựa chọn {v} không có; chọn một trong: {c}"),
    (r"invalid (?P<t>\w+) value: (?P<v>.+)", "giá trị {v} không hợp lệ (cần {t})"),
    (r"expected one argument", "cần một giá trị đi kèm"),
    (r"expected at most one argument", "chỉ nhận tối đa một giá trị"),
    (r"expected at least one argument", "cần ít nhất một giá trị"),
    (r"expected (?P<n>\d+) arguments?", "cần {n} giá trị"),
    (r"ambiguous option: (?P<o>\S+) could match (?P<m>.+)", "tùy chọn {o} không rõ, có thể là: {m}"),
    (r"not allowed with argument (?P<a>.+)", "không dùng chung được với {a}"),
    (r"ignored explicit argument (?P<a>.+)", "không nhận giá trị {a}"),
    (r"one of the arguments (?P<a>.+) is required", "cần một trong các tham số: {a}"),
)
_TYPE_NAMES = {"int": "một số nguyên", "float": "một số"}


def argparse_message(message: str) -> str:
    """argparse's usage error in Vietnamese (its own text when it is unknown, e.g. a type's message)."""
    prefix = ""
    m = re.match(r"argument (?P<name>[^:]+): (?P<rest>.*)", message, re.S)
    if m:
        prefix, message = f"tham số {re.sub(r'^(plan_)?command$', 'LỆNH', m['name'])}: ", m["rest"]
    for pattern, text in _ARGPARSE:
        found = re.fullmatch(pattern, message, re.S)
        if found:
            parts = {k: _TYPE_NAMES.get(v, v) for k, v in found.groupdict().items()}
            if pattern.startswith("invalid choice"):
                hint = closest(parts["v"].strip("'"), [c.strip(" '") for c in parts["c"].split(",")])
                parts["c"] += f" (có phải '{hint}'?)" if hint else ""
            if "a" in parts and pattern.startswith("the following"):
                parts["a"] = re.sub(r"\b(plan_)?command\b", "LỆNH", parts["a"])
            return prefix + text.format(**parts)
    return prefix + message
