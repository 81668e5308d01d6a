"""The quarterly Word report, kept apart from `sync/`: it reads a pass's Summary and writes a document;
nothing in `sync/` depends on it.

content.py   what the report says (pure: Summary + plan → Report)
chart.py     the status-per-unit chart (matplotlib → PNG)
document.py  the .docx in the form of ND 30/2020 (python-docx)
build.py     read the sheet, compute, render, save atomically; the PDF via LibreOffice
"""
