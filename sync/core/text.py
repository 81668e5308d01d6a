"""Vietnamese text normalisation.

Units type names, statuses and headers by hand, with or without diacritics, with hyphens or en dashes,
sometimes pasted from OCR'd documents. Everything that matches text goes through `fold`, so that
"Phòng CNTT – BCVT", "phong cntt-bcvt" and "PHÒNG CNTT - BCVT" are the same key.
"""
from __future__ import annotations

import difflib
import email.utils
import re
import unicodedata
from functools import lru_cache

_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212]+\s*")
_SPACES = re.compile(r"\s+")


def nfc(value: object) -> str:
    """Text of a cell, NFC-normalised and stripped; None becomes ""."""
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def fold(value: object) -> str:
    """Matching key: lower case, no diacritics (đ → d), one kind of dash, single spaces."""
    return _fold(value) if isinstance(value, str) else _fold(nfc(value))


@lru_cache(maxsize=8192)  # statuses, unit names and headers repeat on every row
def _fold(value: str) -> str:
    text = unicodedata.normalize("NFD", nfc(value).lower()).replace("đ", "d")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _DASHES.sub("-", text)
    text = _SPACES.sub(" ", text)
    return text.strip(" .,;:")


def closest(value: str, choices: list[str], cutoff: float = 0.6) -> str | None:
    """The choice that looks most like `value` (compared folded), or None."""
    folded = {fold(c): c for c in choices}
    hit = difflib.get_close_matches(fold(value), list(folded), n=1, cutoff=cutoff)
    return folded[hit[0]] if hit else None


def shorten(text: str, limit: int = 90) -> str:
    """First line of `text`, cut at a word boundary to at most `limit` characters, with an ellipsis."""
    line = nfc(text).split("\n", 1)[0]
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


#: A whole number written with thousands dots, as Vietnamese write them: "1.200", "12.500.000".
THOUSANDS = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{3})+$")
#: More digits than any count has: read as TOO_MANY (int() refuses thousands of digits).
MAX_DIGITS = 18
TOO_MANY: int = 10 ** MAX_DIGITS


def whole_number(value: object) -> int | None:
    """A typed count as a whole number: an int or integral float cell, or ASCII digits ("12", "05", "1.200");
    None when it is not one (a fraction, words, "²", empty). The sign is the caller's to judge (-5 is -5). A
    number of more than MAX_DIGITS digits reads as TOO_MANY, so every limit refuses it without int() failing."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return int(value) if float(value).is_integer() else None
        except OverflowError:  # an int too large for a float
            return TOO_MANY if value > 0 else -TOO_MANY
    text = nfc(value).replace(" ", "")
    digits: str = text.replace(".", "") if THOUSANDS.match(text) else text
    if not (digits and digits.isascii() and digits.isdigit()):
        return None
    return int(digits) if len(digits) <= MAX_DIGITS else TOO_MANY


def vn_number(value: float | int | None) -> str:
    """Vietnamese decimal comma: 83,3."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return f"{value:,}".replace(",", ".")


def is_address(item: str) -> bool:
    """Whether `item` is one e-mail address ("Tên <a@b.vn>" or "a@b.vn"): the one check of an address the Office
    typed (report recipients, the units' and the Office's editors of the shared sheet)."""
    _, address = email.utils.parseaddr(item)
    local, at, domain = address.partition("@")
    return bool(at and local and "." in domain) and not any(ch.isspace() for ch in address) and "\n" not in item


def bare_address(item: str) -> str:
    """The address of "Tên <a@b.vn>", lower case (Google compares editors' addresses so)."""
    return email.utils.parseaddr(item)[1].lower()
