"""Measures Times New Roman's advance widths from Liberation Serif (made with Times New Roman's metrics) for
`sync/reports/times-new-roman.json`, and checks that table against the font where the font is installed.

Write the table again (after `apt-get install fonts-liberation2`):
    .venv/bin/python -m tests.font_widths > sync/reports/times-new-roman.json
"""
from __future__ import annotations

import json
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
FILES = {False: FONT_DIR / "LiberationSerif-Regular.ttf", True: FONT_DIR / "LiberationSerif-Bold.ttf"}
#: What the report's text can hold: ASCII, Latin-1, Latin Extended-A and -B (Đ, Ơ, Ư), Vietnamese (Ạ … ỹ),
#: dashes, quotes, bullets and the ellipsis, the đồng sign and №.
RANGES = ((0x20, 0x7E), (0xA0, 0x24F), (0x1EA0, 0x1EF9), (0x2010, 0x203A), (0x20AB, 0x20AB), (0x2116, 0x2116))


def measured(bold: bool) -> dict[str, int]:
    """Advance width in font units of each character of RANGES the font has."""
    from fontTools.ttLib import TTFont
    font = TTFont(FILES[bold])
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    return {chr(cp): hmtx[cmap[cp]][0] for first, last in RANGES for cp in range(first, last + 1) if cp in cmap}


def _runs(widths: dict[str, int]) -> list[tuple[int, list[int]]]:
    """Consecutive code points grouped: (first code point, widths)."""
    runs: list[tuple[int, list[int]]] = []
    for ch, width in sorted(widths.items()):
        if runs and runs[-1][0] + len(runs[-1][1]) == ord(ch):
            runs[-1][1].append(width)
        else:
            runs.append((ord(ch), [width]))
    return runs


def table_text() -> str:
    """The table as sync/reports/times-new-roman.json holds it: for each weight, runs of consecutive code points
    (the first, in hex, and the widths of it and those after it)."""
    from fontTools.ttLib import TTFont
    table = {"about": "Advance widths of Times New Roman (measured from Liberation Serif, made with its metrics) "
                      "in font units; written by tests/font_widths.py, not by hand.",
             "units_per_em": TTFont(FILES[False])["head"].unitsPerEm,
             **{weight: {f"{first:04X}": " ".join(map(str, run)) for first, run in _runs(measured(bold))}
                for weight, bold in (("regular", False), ("bold", True))}}
    return json.dumps(table, ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    print(table_text(), end="")
