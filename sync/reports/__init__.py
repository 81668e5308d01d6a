"""The period's Word report, on top of the core: it reads a pass's Summary (sync.core.summary), the periods
(sync.core.periods) and the plan, and writes documents. The core never imports it; only the use cases do
(sync/usecases/report_build.py reads the sheet and calls it). tests/test_architecture.py keeps this true.

content.py    what the report says (pure: Summary + plan → Report) and its words, section by section
document.py   the .docx in the form of ND 30/2020 (python-docx), its charts (matplotlib → PNG)
build.py      the files written: names, the figures beside the .docx, the Office's internal workbook;
              evidence.py the annual evidence list
"""
