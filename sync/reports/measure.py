"""How wide Times New Roman sets a line, for the form's rules (short rules, subject lines).

Liberation Serif has Times New Roman's metrics (it was made for that), so its advance widths are the
ones Word and LibreOffice use. Without it, a conservative average per character is used.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

FONT_DIRS = (Path("/usr/share/fonts/truetype/liberation2"), Path("/usr/share/fonts/truetype/liberation"),
             Path("/usr/share/fonts/liberation-serif"), Path("/usr/share/fonts/truetype/msttcorefonts"))
FILES = {False: ("LiberationSerif-Regular.ttf", "Times_New_Roman.ttf", "times.ttf"),
         True: ("LiberationSerif-Bold.ttf", "Times_New_Roman_Bold.ttf", "timesbd.ttf")}
PT_PER_CM = 72 / 2.54


@lru_cache(maxsize=4)
def _font(bold: bool) -> FreeTypeFont | None:
    from PIL import ImageFont
    for folder in FONT_DIRS:
        for name in FILES[bold]:
            if (folder / name).exists():
                return ImageFont.truetype(str(folder / name), 1000)
    return None


def width_cm(text: str, size_pt: float, bold: bool = False) -> float:
    font = _font(bold)
    if font is None:  # no metrics here: capitals are wide, lower case about half an em
        ems = sum(0.72 if ch.isupper() else 0.25 if ch == " " else 0.5 for ch in text)
    else:
        ems = font.getlength(text) / 1000
    return ems * size_pt / PT_PER_CM


def wrap(text: str, size_pt: float, bold: bool, line_cm: float) -> list[str]:
    """Greedy line breaking at spaces, as a word processor does it."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and width_cm(f"{lines[-1]} {word}", size_pt, bold) <= line_cm:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines
