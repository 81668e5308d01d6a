"""A picture of the demo's `Tổng hợp` tab as LibreOffice Calc draws it, for the README (`make dashboard-png`).

Builds the demo workbook (as of 20/09/2024), keeps only the dashboard tab, converts it to PDF with
LibreOffice and the PDF's pages to one PNG (pdftoppm, then the pages stacked with Pillow).
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

from sync.core.errors import UserError

RESOLUTION_DPI = 100
TIMEOUT_S = 180


def render(out: Path, plan_path: Path, as_of: dt.date, dashboard: str = "Tổng hợp") -> Path:
    from sync.entry.demo import build_demo
    from sync.files import to_pdf
    if shutil.which("pdftoppm") is None:
        raise UserError("Không tìm thấy lệnh 'pdftoppm' (gói poppler-utils): sudo apt-get install poppler-utils.")
    with tempfile.TemporaryDirectory(prefix="cchc-dash-") as tmp:
        book = Path(tmp) / "demo.xlsx"
        build_demo(book, plan_path, as_of)
        wb = openpyxl.load_workbook(book)
        for ws in list(wb.worksheets):
            if ws.title != dashboard:
                wb.remove(ws)
        only = Path(tmp) / "tong-hop.xlsx"
        wb.save(only)
        pdf = to_pdf(only)
        prefix = Path(tmp) / "page"
        done = subprocess.run(["pdftoppm", "-r", str(RESOLUTION_DPI), "-png", str(pdf), str(prefix)],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        if done.returncode != 0:
            raise UserError(f"pdftoppm không chuyển được '{pdf}': {done.stderr.strip()}")
        pages = sorted(Path(tmp).glob("page*.png"))
        out.parent.mkdir(parents=True, exist_ok=True)
        _stack(pages, out)
    return out


def _stack(pages: list[Path], out: Path) -> None:
    from PIL import Image, ImageChops
    images = [Image.open(p).convert("RGB") for p in pages]
    cropped = []
    for im in images:  # drop the page margins: one continuous tab
        box = ImageChops.difference(im, Image.new("RGB", im.size, "white")).getbbox()
        cropped.append(im.crop((0, box[1], im.width, box[3])) if box else im)
    width, gap = max(im.width for im in cropped), 0
    sheet = Image.new("RGB", (width, sum(im.height for im in cropped) + gap * (len(cropped) - 1)), "white")
    y = 0
    for im in cropped:
        sheet.paste(im, (0, y))
        y += im.height + gap
    box = ImageChops.difference(sheet, Image.new("RGB", sheet.size, "white")).getbbox()
    if box:
        sheet = sheet.crop((max(box[0] - 12, 0), 0, min(box[2] + 12, sheet.width), sheet.height))
    sheet.save(out, optimize=True)


def main() -> None:
    from sync.core.config import PROJECT_DIR
    parser = argparse.ArgumentParser(description="Render the demo's dashboard tab to a PNG through LibreOffice.")
    parser.add_argument("--out", default="docs/dashboard.png")
    parser.add_argument("--plan", default=str(PROJECT_DIR / "config/plans/ke-hoach-tuyen-truyen-cchc-2024.yaml"))
    parser.add_argument("--as-of", default="2024-09-20")
    args = parser.parse_args()
    try:
        path = render(Path(args.out), Path(args.plan), dt.date.fromisoformat(args.as_of))
    except UserError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    print(f"Đã vẽ tab 'Tổng hợp' của bản mẫu vào '{path}'.")


if __name__ == "__main__":
    main()
