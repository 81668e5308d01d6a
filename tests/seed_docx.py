"""The signed 2024 plan as a Word file laid out like the real one, rebuilt from its extracted text.

tests/data/ke-hoach-tuyen-truyen-cchc-2024.txt holds the plan's text: first-page lines, then the appendix
table one row per line (cells separated by tabs, bullets and paragraphs as the extraction's HTML, rows
split by page breaks as rows without STT). Every table row becomes a Word row, every <li>/<p> a paragraph
of its cell, so the importer meets the plan as the Office's Word file gives it: a unit name broken over two
bullets (task 11), texts cut mid-sentence by page breaks (tasks 4, 5, 8, 10, 15, 17).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from docx import Document

SEED = Path(__file__).parent / "data" / "ke-hoach-tuyen-truyen-cchc-2024.txt"

_BLOCK = re.compile(r"<(li|p)\b[^>]*>(.*?)</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split()).replace("( ", "(").replace(" )", ")")


def cell_paragraphs(raw: str) -> list[str]:
    """The paragraphs of one extracted cell: each <li> or <p> one, loose text one."""
    out, pos = [], 0
    for match in _BLOCK.finditer(raw):
        loose = _clean(raw[pos:match.start()])
        if loose:
            out.append(loose)
        inner = _clean(match.group(2))
        if inner:
            out.append(inner)
        pos = match.end()
    tail = _clean(raw[pos:])
    if tail:
        out.append(tail)
    return out


def _fill(cell, paragraphs: list[str]) -> None:
    cell.text = paragraphs[0] if paragraphs else ""
    for text in paragraphs[1:]:
        cell.add_paragraph(text)


def write_seed_docx(path: Path) -> Path:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    doc = Document()
    first_table = next(i for i, line in enumerate(lines) if line.startswith("<b>STT</b>"))
    title: list[str] = []
    for line in lines[:first_table]:
        text = line.strip().strip("#").strip().replace("**", "").replace("***", "")
        if line.endswith("  "):  # a line break inside one paragraph (the title block)
            title.append(text)
            continue
        if title:
            paragraph = doc.add_paragraph()
            for n, part in enumerate(title + [text]):
                run = paragraph.add_run(part)
                run.bold = True
                if n < len(title):
                    run.add_break()
            title = []
        elif text:
            doc.add_paragraph(text)
    rows = [line.split("\t") for line in lines[first_table:] if "\t" in line and not line.startswith("--")]
    table = doc.add_table(rows=0, cols=6)
    for cells in rows:
        new = table.add_row().cells
        for cell, raw in zip(new, cells + [""] * (6 - len(cells)), strict=True):
            _fill(cell, cell_paragraphs(raw))
    doc.save(path)
    return path
