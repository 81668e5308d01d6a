"""The period's Word report, on top of the core of `sync/`: it reads a pass's Summary (sync.dashboard), the
periods (sync.periods) and the plan, and writes a document. The core's computation does not depend on it;
its users are the `report` use case (sync/services.py), sync/notify.py (the report's file name, beside which
the sending witness lives) and the README picture tool (sync/dashboard_png.py). tests/test_architecture.py
keeps this true.

content.py   what the report says (pure: Summary + plan → Report)
chart.py     the status-per-unit chart (matplotlib → PNG)
document.py  the .docx in the form of ND 30/2020 (python-docx)
build.py     read the sheet, compute, render, save atomically; the PDF via LibreOffice
"""
