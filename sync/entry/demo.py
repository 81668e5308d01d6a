"""`python -m sync.entry.demo`: the demo workbook (`make demo`), or with `--png` a picture of its dashboard tab
(`make dashboard-png`); sync/usecases/demo.py builds them.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sync.core.errors import UserError
from sync.usecases.demo import build_demo, render


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' không phải ngày dạng YYYY-MM-DD") from None


def main() -> None:
    from sync.core.config import PROJECT_DIR
    parser = argparse.ArgumentParser(description="Build a demo workbook with sample unit entries (--png: draw its "
                                                 "dashboard tab through LibreOffice instead).")
    parser.add_argument("--out", default="data/demo.xlsx")
    parser.add_argument("--png", help="draw the demo's dashboard tab into this PNG (make dashboard-png)")
    parser.add_argument("--plan", default=str(PROJECT_DIR / "config/plans/ke-hoach-tuyen-truyen-cchc-2024.yaml"))
    parser.add_argument("--as-of", default="2024-09-20", type=_day, help="the demo's date (YYYY-MM-DD)")
    args = parser.parse_args()
    if args.png and Path(args.png).suffix.lower() != ".png":
        parser.error(f"--png {args.png}: tên tệp phải có đuôi .png")
    if args.png:
        try:
            path = render(Path(args.png), Path(args.plan), args.as_of)
        except UserError as exc:
            print(exc, file=sys.stderr)
            raise SystemExit(2) from None
        print(f"Đã vẽ tab 'Tổng hợp' của bản mẫu vào '{path}'.")
        return
    summary = build_demo(Path(args.out), Path(args.plan), args.as_of)
    print(f"Đã tạo {args.out}: {summary['rows']} dòng, {summary['done']} hoàn thành, {summary['overdue']} quá hạn, "
          f"{summary['missing_quarterly']} kết quả quý còn thiếu, {summary['errors']} lỗi nhập liệu.")


if __name__ == "__main__":
    main()
