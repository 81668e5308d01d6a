"""Measures Times New Roman's advance widths from Liberation Serif (made with Times New Roman's metrics) for
`sync/reports/font_widths.py`, and checks that table against the font where the font is installed.

Write the table again (after `apt-get install fonts-liberation2`):
    .venv/bin/python -m tests.font_widths > sync/reports/font_widths.py
"""
from __future__ import annotations

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


def _literal(name: str, widths: dict[str, int]) -> list[str]:
    lines = [f"{name}: tuple[tuple[int, str], ...] = ("]
    for first, run in _runs(widths):
        numbers = [str(w) for w in run]
        chunks = [" ".join(numbers[i:i + 20]) for i in range(0, len(numbers), 20)]
        text = "\n     ".join(f'"{c}{" " if i < len(chunks) - 1 else ""}"' for i, c in enumerate(chunks))
        lines.append(f"    ({first:#06x},\n     {text}),")
    return [*lines, ")"]


def module_text() -> str:
    from fontTools.ttLib import TTFont
    units = TTFont(FILES[False])["head"].unitsPerEm
    head = f'''"""Advance widths of Times New Roman, regular and bold, in font units ({units:,} to the em),
for the report's rules, letterhead column and line breaks (sync/reports/document.py): the same widths on every
machine, whether or not a Times-metric font is installed there, so a report's layout does not depend on the server
that built it.

Measured from Liberation Serif, made with Times New Roman's metrics, by tests/font_widths.py (which also checks
this table against the font where it is installed); written by it, not by hand. Each run: its first code point and
the widths of it and the code points after it.
"""

UNITS_PER_EM = {units}
'''
    body = [*_literal("REGULAR", measured(False)), "", *_literal("BOLD", measured(True))]
    return head + "\n".join(body) + "\n"


if __name__ == "__main__":
    print(module_text(), end="")
