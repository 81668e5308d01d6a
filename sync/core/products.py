"""Products by kind (docs/workbook.md): what units typed in `Kết quả Quý I–IV` and `Số lượng sản phẩm`, read into
counts of news items, meetings, attendees, documents, printed matter and programmes. Pure: text in, counts out.

The quantity reader finds a quantity (a numeral — leading zeros "05", thousands dots "1.200" — or number
words, "hai", "mười lăm", "một trăm") followed, perhaps after a classifier ("cuộc", "buổi"), by a word of a
known kind: "05 tin, 03 bài" gives `tin, bài` 8, "02 hội nghị với 150 lượt người" gives `hội nghị, tập huấn` 2
and `lượt người tham dự` 150. A quantity before any other word counts nowhere: "năm 2024", "Số 123/KH-STTTT",
"03 cuộc thi". Number words count only before a kind's word ("năm" is also "year", "sáu" without its accent
"after"), and are read with their diacritics. Unlike kinds are never added together. Nothing here raises on
what a unit typed: text it cannot read is kept as text and counted nowhere.

Counting a row (`row_counts`): the results text of each quarter is read in that quarter. `Số lượng sản phẩm`
is the row's total and is used for a kind only when the results texts give no count of that kind (so the
same products are never counted twice); a bare number takes its kind from the plan's `Kết quả/sản phẩm`
when that names exactly one kind, and is left uncounted otherwise; it goes to the quarter the row was
completed in, else the last quarter with results typed, else the quarter of the as-of date.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sync.core.schema import TRACKING_COLUMNS, fold, nfc, shorten, whole_number

if TYPE_CHECKING:
    from sync.core.validation import Checked

MAX_COUNT = 1_000_000  # more than this of one thing in one cell is a typing slip, not a count


@dataclass(frozen=True)
class Kind:
    """A kind of product: its label (what users read) and the words that name it."""

    label: str
    words: tuple[str, ...]


#: The kinds the Office reports (docs/workbook.md), in this order; `products:` in the settings adds words and kinds.
DEFAULT_KINDS: tuple[Kind, ...] = (
    Kind("tin, bài", ("tin", "bài", "tin bài", "tin, bài", "bài viết", "tin tức", "bản tin", "bài báo",
                      "tin ảnh", "bài/tháng")),
    Kind("hội nghị, tập huấn", ("hội nghị", "tập huấn", "lớp tập huấn", "lớp bồi dưỡng", "lớp", "hội thảo",
                                "tọa đàm", "hội nghị tập huấn", "buổi tuyên truyền", "buổi làm việc")),
    Kind("lượt người tham dự", ("lượt người", "lượt người tham dự", "người", "người tham dự", "đại biểu",
                                "học viên", "lượt cán bộ", "cán bộ", "công chức", "lượt đại biểu",
                                "lượt học viên")),
    Kind("văn bản", ("văn bản", "công văn", "kế hoạch", "quyết định", "hướng dẫn", "thông báo", "báo cáo",
                     "văn bản chỉ đạo")),
    Kind("ấn phẩm", ("ấn phẩm", "tờ gấp", "tờ rơi", "tờ", "áp phích", "pano", "pa nô", "panô", "băng rôn",
                     "băng zôn", "sổ tay", "tài liệu", "cuốn sổ tay", "bộ tài liệu", "cuốn", "poster")),
    Kind("chương trình, chuyên mục", ("chương trình", "chuyên mục", "phóng sự", "video", "clip", "video clip",
                                      "chuyên trang", "phim", "phim tài liệu", "tiểu phẩm", "infographic",
                                      "số chuyên mục")),
)

#: Words between a quantity and what it counts: "02 cuộc hội nghị", "03 buổi tập huấn", "01 bộ tài liệu".
#: ("số" is not one: "một số tin bài" is "some news items").
CLASSIFIERS = frozenset(fold(w) for w in ("cuộc", "buổi", "đợt", "chiếc", "kỳ", "tập", "bộ", "cái"))
#: Phrases that start like a kind's word but are not products: "100 tin nhắn", "1.200 lượt truy cập".
NOT_PRODUCTS = ("tin nhắn", "người dân", "lượt người dân", "lượt truy cập", "lượt xem", "bài thi", "bài dự thi",
                "lớp học")
#: A numeral after these is a date, an ordinal or a document number, not a quantity to report as unread.
NOT_QUANTITY_BEFORE = frozenset(fold(w) for w in ("ngày", "tháng", "năm", "quý", "số", "lần", "thứ", "khóa",
                                                   "giai", "đoạn", "kỳ", "đợt", "điều", "khoản", "mục", "phụ",
                                                   "lục", "trang", "tuần", "nghị", "định", "quyết", "kế", "hoạch"))

#: Numerals are ASCII digits (a "²" or another script's digit is a word, never a quantity).
_TOKEN = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?![.,]?[0-9])|[0-9]+(?:[.,][0-9]+)?|[^\W\d_]+|\S")
_DIGIT_CHARS = frozenset("0123456789")

#: Number words, read with their diacritics (lower case, NFC).
_DIGITS = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9}
_AFTER_TENS = {**_DIGITS, "mốt": 1, "tư": 4, "lăm": 5, "nhăm": 5}  # "hai mươi mốt", "mười lăm", "hai mươi tư"
_TEN, _TENS, _HUNDRED, _ZERO = "mười", "mươi", "trăm", frozenset({"linh", "lẻ", "không"})
_THOUSAND = frozenset({"nghìn", "ngàn"})
_NUMBER_STARTS = frozenset({*_DIGITS, _TEN})


@dataclass(frozen=True)
class Reading:
    """What a text says: counts by kind label, and the quantities it found before words of no known kind."""

    counts: dict[str, int] = field(default_factory=dict)
    unread: tuple[str, ...] = ()


class _Vocabulary:
    """The kinds' words as token sequences, longest first, for matching after a quantity: with their
    diacritics (lower case), and folded for text typed without any ("Dang 05 tin, 03 bai"), so that a word
    typed with its accents never matches another ("tổ chức" is not "tờ")."""

    def __init__(self, kinds: Sequence[Kind]):
        self.labels = tuple(k.label for k in kinds)
        self.exact = self._phrases(kinds, _lower_tokens)
        self.folded = self._phrases(kinds, _folded_tokens)

    @staticmethod
    def _phrases(kinds: Sequence[Kind], tokens: Callable[[str], tuple[str, ...]]
                 ) -> dict[str, list[tuple[tuple[str, ...], str | None]]]:
        """Phrases by their first token, longest first."""
        phrases: dict[tuple[str, ...], str | None] = {}
        for kind in kinds:
            for word in kind.words:
                phrases.setdefault(tokens(word), kind.label)
        for word in NOT_PRODUCTS:
            phrases.setdefault(tokens(word), None)
        index: dict[str, list[tuple[tuple[str, ...], str | None]]] = {}
        for phrase, label in sorted(((p, label) for p, label in phrases.items() if p), key=lambda x: -len(x[0])):
            index.setdefault(phrase[0], []).append((phrase, label))
        return index

    def match(self, tokens: list[str], i: int, folded: bool) -> tuple[str | None, int] | None:
        """(kind label or None for a known non-product, tokens used) of the longest phrase at `i`."""
        if i >= len(tokens):
            return None
        for phrase, label in (self.folded if folded else self.exact).get(tokens[i], ()):
            if tuple(tokens[i:i + len(phrase)]) == phrase:
                return label, len(phrase)
        return None


def _lower_tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(nfc(text).lower()))


def _folded_tokens(text: str) -> tuple[str, ...]:
    return tuple(fold(t) for t in _lower_tokens(text))


def _words(tokens: list[str]) -> tuple[list[str], bool]:
    """The tokens to match kinds' words on, and whether they are folded (the text has no diacritics)."""
    if all(t.isascii() for t in tokens):
        return [fold(t) for t in tokens], True
    return tokens, False


_VOCABULARIES: dict[int, tuple[Sequence[Kind], _Vocabulary]] = {}


def _vocabulary(kinds: Sequence[Kind]) -> _Vocabulary:
    """The kinds' vocabulary, built once per kinds object (a pass reads thousands of cells with the same one)."""
    cached = _VOCABULARIES.get(id(kinds))
    if cached is None or cached[0] is not kinds:
        if len(_VOCABULARIES) > 64:
            _VOCABULARIES.clear()
        cached = _VOCABULARIES[id(kinds)] = (kinds, _Vocabulary(kinds))
    return cached[1]


def read(text: object, kinds: Sequence[Kind] = DEFAULT_KINDS) -> Reading:
    """The products `text` counts, by kind label (only kinds it names), and the quantities it could not place."""
    if text is None or isinstance(text, bool):
        return Reading()
    raw = list(_lower_tokens(str(text)))
    if not raw:
        return Reading()
    words, folded = _words(raw)
    vocab = _vocabulary(kinds)
    counts: dict[str, int] = {}
    unread: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i][0] not in _DIGIT_CHARS and raw[i] not in _NUMBER_STARTS:
            i += 1
            continue
        number = _quantity(raw, i)
        if number is None:
            i += 1
            continue
        value, j = number
        k = j
        while k < len(raw) and fold(raw[k]) in CLASSIFIERS and vocab.match(words, k, folded) is None:
            k += 1
        found = vocab.match(words, k, folded)
        if found is not None and (found[0] is None or value <= MAX_COUNT):
            if found[0] is not None:
                counts[found[0]] = counts.get(found[0], 0) + value
            i = k + found[1]  # a known word that is no product ("lượt người dân") is read, not reported
            continue
        if raw[i][0] in _DIGIT_CHARS and _reportable(raw, i, j):
            unread.append(" ".join(raw[i:min(j + 2, len(raw))]))
        i = j
    return Reading({label: counts[label] for label in vocab.labels if label in counts}, tuple(unread))


def _reportable(raw: list[str], i: int, j: int) -> bool:
    """A numeral worth saying it was not understood: followed by a word, not a date, an ordinal or a number."""
    if j >= len(raw) or not raw[j][0].isalpha():
        return False
    return i == 0 or fold(raw[i - 1]) not in NOT_QUANTITY_BEFORE


def _quantity(raw: list[str], i: int) -> tuple[int, int] | None:
    """A whole number at token `i` (a numeral or number words) and the index after it; None when there is none."""
    token = raw[i]
    if token[0] in _DIGIT_CHARS:
        if i > 1 and raw[i - 1] in ("/", "-", ".", ":") and raw[i - 2][0] in _DIGIT_CHARS:
            return None  # the tail of a date or a number: 14/09/2024, 123-456
        if i + 2 < len(raw) and raw[i + 1] in ("/", ":") and raw[i + 2][0] in _DIGIT_CHARS:
            return None  # the head of a date or a time
        number = whole_number(token)  # None for a decimal ("2,5"): not a count
        return (number, i + 1) if number is not None else None
    return _number_words(raw, i)


def _number_words(raw: list[str], i: int) -> tuple[int, int] | None:
    """Vietnamese number words up to the thousands: "mười lăm", "hai mươi mốt", "một trăm linh năm"."""
    below = _below_thousand(raw, i)
    if below is None:
        return None
    value, j = below
    if j < len(raw) and raw[j] in _THOUSAND:
        rest = _below_thousand(raw, j + 1)
        if rest is None:
            return value * 1000, j + 1
        return value * 1000 + rest[0], rest[1]
    return value, j


def _below_thousand(raw: list[str], i: int) -> tuple[int, int] | None:
    tens = _below_hundred(raw, i)
    if tens is None:
        return None
    value, j = tens
    if value < 10 and j < len(raw) and raw[j] == _HUNDRED:
        value, j = value * 100, j + 1
        if j + 1 < len(raw) and raw[j] in _ZERO and raw[j + 1] in _DIGITS:
            return value + _DIGITS[raw[j + 1]], j + 2
        rest = _below_hundred(raw, j)
        if rest is not None:
            return value + rest[0], rest[1]
    return value, j


def _below_hundred(raw: list[str], i: int) -> tuple[int, int] | None:
    if i >= len(raw):
        return None
    word = raw[i]
    if word == _TEN:
        if i + 1 < len(raw) and raw[i + 1] in _AFTER_TENS and raw[i + 1] not in ("mốt", "tư"):
            return 10 + _AFTER_TENS[raw[i + 1]], i + 2
        return 10, i + 1
    if word not in _DIGITS:
        return None
    digit = _DIGITS[word]
    if i + 1 < len(raw) and raw[i + 1] == _TENS:
        if i + 2 < len(raw) and raw[i + 2] in _AFTER_TENS:
            return digit * 10 + _AFTER_TENS[raw[i + 2]], i + 3
        return digit * 10, i + 2
    return digit, i + 1


def kinds_named(text: object, kinds: Sequence[Kind] = DEFAULT_KINDS) -> list[str]:
    """The kinds whose words `text` names, quantity or not (the plan's Kết quả/sản phẩm), in kind order."""
    words, folded = _words(list(_lower_tokens(nfc(text))))
    vocab = _vocabulary(kinds)
    named: set[str] = set()
    i = 0
    while i < len(words):
        found = vocab.match(words, i, folded)
        if found is None:
            i += 1
            continue
        if found[0] is not None:
            named.add(found[0])
        i += found[1]
    return [label for label in vocab.labels if label in named]


def with_settings(extra: Mapping[str, Iterable[str]]) -> tuple[Kind, ...]:
    """The default kinds with the Office's `products:` (label → words): words added to a kind of the same
    label (folded), new kinds after the defaults. ValueError (Vietnamese, naming the label) when a word is
    empty or already another kind's."""
    kinds = {fold(k.label): Kind(k.label, k.words) for k in DEFAULT_KINDS}
    owner = {_folded_tokens(w): fold(k.label) for k in DEFAULT_KINDS for w in k.words}
    for label, words in extra.items():
        name = nfc(label)
        if not name:
            raise ValueError("tên loại sản phẩm không được để trống")
        key = fold(name)
        mine = kinds.get(key, Kind(name, ()))
        added = list(mine.words)
        for word in [name, *words]:
            phrase = _folded_tokens(str(word))
            if not phrase:
                raise ValueError(f"loại '{name}': có một từ để trống")
            if owner.get(phrase, key) != key:
                raise ValueError(f"loại '{name}': từ '{nfc(word)}' đã thuộc loại '{kinds[owner[phrase]].label}'; "
                                 "mỗi từ chỉ thuộc một loại")
            owner[phrase] = key
            added.append(nfc(word))
        kinds[key] = Kind(mine.label, tuple(dict.fromkeys(added)))
    return tuple(kinds.values())


# --- counting rows --------------------------------------------------------------------------------------

Key = tuple[int, str, int]  # (task STT, unit code, quarter 1–4)


@dataclass(frozen=True)
class Row:
    """What the counter needs of a tracking row, as plain data."""

    stt: int
    unit: str  # the unit's code
    results: Mapping[int, str]  # quarter → results text
    quantity: object = None  # Số lượng sản phẩm as typed (a whole number, or text)
    plan_results: str = ""  # the plan's Kết quả/sản phẩm of the task
    done_date: dt.date | None = None


@dataclass(frozen=True)
class Unplaced:
    """A cell whose quantities were not all counted, for the Office's review (never a unit's error)."""

    stt: int
    unit: str
    column: str  # "q1"…"q4" or "quantity"
    text: str
    why: str  # in Vietnamese


@dataclass(frozen=True)
class Products:
    """Counts by (task, unit, quarter) and kind label; every total is a sum of these cells."""

    labels: tuple[str, ...]
    cells: Mapping[Key, Mapping[str, int]]
    unplaced: tuple[Unplaced, ...] = ()

    def total(self, quarters: Iterable[int] | None = None, stt: int | None = None,
              unit: str | None = None) -> dict[str, int]:
        """Every kind's count (0 when none) over the cells that match: the quarters of a period's window, a
        task, a unit."""
        wanted = set(quarters) if quarters is not None else None
        out = dict.fromkeys(self.labels, 0)
        for (s, u, q), counts in self.cells.items():
            if (wanted is None or q in wanted) and (stt is None or s == stt) and (unit is None or u == unit):
                for label, n in counts.items():
                    out[label] = out.get(label, 0) + n
        return out

    def by_unit(self, quarters: Iterable[int] | None = None) -> dict[str, dict[str, int]]:
        units = dict.fromkeys(u for _, u, _ in self.cells)
        return {u: self.total(quarters, unit=u) for u in units}

    def by_task(self, quarters: Iterable[int] | None = None) -> dict[int, dict[str, int]]:
        return {s: self.total(quarters, stt=s) for s in sorted({s for s, _, _ in self.cells})}

    def by_quarter(self) -> dict[int, dict[str, int]]:
        return {q: self.total([q]) for q in range(1, 5)}

    def of_row(self, stt: int, unit: str) -> dict[str, int]:
        return self.total(stt=stt, unit=unit)


def quarter_of(day: dt.date, year: int, cutoff_day: int = 14) -> int:
    """The reporting quarter (Nghị định 09/2019: to the cut-off day of its last month) a day's data falls in,
    clamped to the plan's year."""
    if day.year < year:
        return 1
    if day.year > year:
        return 4
    quarter = (day.month - 1) // 3 + 1
    if day.month % 3 == 0 and day.day > cutoff_day:
        quarter += 1
    return min(quarter, 4)


def row_counts(row: Row, kinds: Sequence[Kind], year: int, as_of: dt.date,
               cutoff_day: int = 14) -> tuple[dict[int, dict[str, int]], list[Unplaced]]:
    """A row's counts by quarter, and what it could not place (the module's docstring gives the rules)."""
    by_quarter: dict[int, dict[str, int]] = {}
    unplaced: list[Unplaced] = []
    seen: set[str] = set()
    for quarter, text in sorted(row.results.items()):
        reading = read(text, kinds)
        if reading.counts:
            by_quarter[quarter] = dict(reading.counts)
            seen.update(reading.counts)
        if reading.unread:
            unplaced.append(Unplaced(row.stt, row.unit, f"q{quarter}", nfc(text),
                                     "không rõ loại sản phẩm của: " + "; ".join(reading.unread)))
    typed, why = _quantity_counts(row.quantity, row.plan_results, kinds)
    if why:
        unplaced.append(Unplaced(row.stt, row.unit, "quantity", nfc(row.quantity), why))
    extra = {label: n for label, n in typed.items() if label not in seen and n}
    if extra:
        quarter = _quantity_quarter(row, year, as_of, cutoff_day)
        into = by_quarter.setdefault(quarter, {})
        for label, n in extra.items():
            into[label] = into.get(label, 0) + n
    return by_quarter, unplaced


def _quantity_counts(quantity: object, plan_results: str, kinds: Sequence[Kind]) -> tuple[dict[str, int], str]:
    """`Số lượng sản phẩm` by kind, and why it was not counted ("" when it was, or when empty)."""
    if quantity is None or isinstance(quantity, bool) or nfc(quantity) == "":
        return {}, ""
    number = whole_number(quantity)
    if number is None or number < 0:
        reading = read(quantity, kinds)
        if reading.counts and not reading.unread:
            return dict(reading.counts), ""
        return {}, "không đọc được số lượng theo loại sản phẩm"
    if number == 0:
        return {}, ""
    if number > MAX_COUNT:
        return {}, "số lượng lớn bất thường"
    named = kinds_named(plan_results, kinds)
    if len(named) == 1:
        return {named[0]: number}, ""
    if not named:
        return {}, "kết quả/sản phẩm của kế hoạch không nêu loại sản phẩm; ghi rõ loại trong kết quả quý"
    return {}, (f"kết quả/sản phẩm của kế hoạch nêu {len(named)} loại sản phẩm ({'; '.join(named)}); ghi rõ "
                "số lượng từng loại trong kết quả quý")


def _quantity_quarter(row: Row, year: int, as_of: dt.date, cutoff_day: int) -> int:
    if row.done_date is not None:
        return quarter_of(row.done_date, year, cutoff_day)
    typed = [q for q, text in row.results.items() if nfc(text)]
    return max(typed) if typed else quarter_of(as_of, year, cutoff_day)


def count(rows: Iterable[Row], kinds: Sequence[Kind], year: int, as_of: dt.date,
          cutoff_day: int = 14) -> Products:
    """Every row's counts by (task, unit, quarter)."""
    cells: dict[Key, dict[str, int]] = {}
    unplaced: list[Unplaced] = []
    for row in rows:
        quarters, said = row_counts(row, kinds, year, as_of, cutoff_day)
        unplaced += said
        for quarter, counts in quarters.items():
            cell = cells.setdefault((row.stt, row.unit, quarter), {})
            for label, n in counts.items():
                cell[label] = cell.get(label, 0) + n
    return Products(tuple(k.label for k in kinds), cells, tuple(unplaced))


def of_checked(checked: Iterable[Checked], year: int, as_of: dt.date, kinds: Sequence[Kind] = DEFAULT_KINDS,
               cutoff_day: int = 14) -> Products:
    """The counts of a pass's rows: the rows it counts (in the plan, not duplicated), as the units typed them."""
    return count((Row(c.task.stt, c.unit.code, c.entry.results, c.entry.quantity, c.task.results, c.done_date)
                  for c in checked if c.counted and c.task and c.unit), kinds, year, as_of, cutoff_day)


def sentence(products: Products, shown: int = 3) -> str:
    """The year's products in one sentence for the command's output, with the cells whose quantities were not
    counted (a few named; they are never a unit's error: what was typed stays as it is)."""
    figures = "; ".join(f"{n:02d} {label}" if n < 10 else f"{n:,}".replace(",", ".") + f" {label}"
                        for label, n in products.total().items() if n)
    text = f"Sản phẩm theo loại: {figures or 'chưa có số lượng nào đọc được'}."
    if products.unplaced:
        cells = "; ".join(f"NV {u.stt} · {u.unit}, {TRACKING_COLUMNS.get(u.column, u.column)} "
                          f"'{shorten(u.text, 40)}': {u.why}" for u in products.unplaced[:shown])
        more = f" và {len(products.unplaced) - shown} ô khác" if len(products.unplaced) > shown else ""
        text += (f" Không tính được {len(products.unplaced)} ô (giữ nguyên như đã nhập): {cells}{more}; xem các cột "
                 "'Sản phẩm: …' của 'python -m sync export'.")
    return text
