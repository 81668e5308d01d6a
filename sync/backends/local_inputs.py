"""Typed input on the local workbook: Excel data validations that warn (never reject) with a help message.

Kept apart from local.py's formatting: `apply_inputs` replaces the validations it made before (known by their
error title) and adds one per rule, so running `init` again never stacks them.
"""
from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sync.core.workbook import InputRule, TabFormat

#: The error title of every validation made here: how they are found again (and the title of the warning box).
MARK = "Kiểm tra nhập liệu"
#: Excel's limits on a validation's texts (characters); longer texts make the file unreadable to Excel.
TITLE_MAX, PROMPT_MAX, ERROR_MAX = 32, 255, 225


def apply_inputs(ws: Worksheet, fmt: TabFormat) -> None:
    ws.data_validations.dataValidation = [v for v in ws.data_validations.dataValidation if v.errorTitle != MARK]
    for rule in fmt.inputs:
        validation = _validation(rule)
        col = get_column_letter(rule.column)
        validation.add(f"{col}{rule.first_row}:{col}{rule.last_row}")
        ws.add_data_validation(validation)


def _validation(rule: InputRule) -> DataValidation:
    if rule.kind == "date":
        validation = DataValidation(type="date", operator="between", formula1="DATE(1990,1,1)",
                                    formula2="DATE(2100,12,31)")
    elif rule.kind == "whole":
        validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    else:
        validation = DataValidation()  # any value: the help message alone
    validation.allow_blank = True
    validation.showInputMessage = True
    validation.promptTitle, validation.prompt = rule.title[:TITLE_MAX], rule.message[:PROMPT_MAX]
    validation.errorTitle, validation.error = MARK, rule.warning[:ERROR_MAX]
    validation.errorStyle = "warning"  # the value stays; the pass's Kiểm tra says what to fix
    validation.showErrorMessage = bool(rule.warning)
    return validation
