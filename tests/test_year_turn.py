"""The year's turn, end to end, as README walks the Office through January: import the new plan (laid out
unlike the last one), point a new config at it and at a new workbook and state, `init`, `run`; last year's
workbook and state stay as they were and still give their report and status."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from sync.core.plan import load_plan
from sync.entry.cli import main

from .conftest import PLAN_PATH
from .plan_shapes import write_two_row_plan


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_year_turns(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def cli(config, *args):
        capsys.readouterr()
        code = main([*args, "--config", str(config)])
        out = capsys.readouterr()
        return code, out.out, out.err

    old_config = tmp_path / "config" / "settings-2024.yaml"
    old_config.parent.mkdir()
    old_config.write_text(yaml.safe_dump({"plan": str(PLAN_PATH), "local": {"path": "data/theo-doi-cchc-2024.xlsx"},
                                          "state": "state/cchc-2024.sqlite"}, allow_unicode=True), encoding="utf-8")
    assert cli(old_config, "init")[0] == 0
    code, out, err = cli(old_config, "run", "--as-of", "2024-12-20", "--json")
    assert code == 0, err
    last_year = json.loads(out)
    old_book, old_state = tmp_path / "data/theo-doi-cchc-2024.xlsx", tmp_path / "state/cchc-2024.sqlite"
    before = (_digest(old_book), _digest(old_state))

    # January: the new plan, a two-row-header Word file in two tables, read with last year's unit registry
    source = write_two_row_plan(tmp_path / "ke-hoach-2025.docx")
    new_plan = tmp_path / "config/plans/ke-hoach-2025.yaml"
    code, out, err = cli(old_config, "plan", "import", str(source), "-o", str(new_plan))
    assert code == 0, err
    assert "5 nhiệm vụ" in out and "nhiệm vụ" not in err  # nothing to fill in: every unit was recognised
    plan = load_plan(new_plan)
    assert (plan.year, plan.number) == (2025, "Số 45/KH-STTTT")
    # the roles as the Word file gives them, not as the import read them (tests/plan_shapes.py TWO_ROW_TASKS)
    assert {t.stt: (t.lead, t.support) for t in plan.tasks} == {
        1: (("VP",), ("CNTT", "TTBCXB", "TTDV", "CONG", "BBT")), 2: (("CNTT",), ("TTBCXB", "CONG")),
        3: (("TTDV",), ("BBT",)), 4: (("VP",), ("BBT",)), 5: (("TTBCXB",), ())}

    new_config = tmp_path / "config" / "settings.yaml"
    new_config.write_text(yaml.safe_dump({"plan": str(new_plan), "local": {"path": "data/theo-doi-cchc-2025.xlsx"},
                                          "state": "state/cchc-2025.sqlite"}, allow_unicode=True), encoding="utf-8")
    code, out, err = cli(new_config, "init")
    assert code == 0 and "theo-doi-cchc-2025.xlsx" in out, err
    code, out, err = cli(new_config, "run", "--as-of", "2025-03-11", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["tasks"], summary["rows"]) == (5, 6 + 3 + 2 + 2 + 1)  # one row per (task, unit) above
    # task 3 is "Hàng quý, trước ngày 10 tháng cuối quý": its two units owe Quý I from 11/03, before the 14th
    assert summary["missing_quarterly"] == 2
    code, out, _ = cli(new_config, "deadline", "Quý I")
    assert json.loads(out)["due"] == "2025-03-31"  # the new plan's year

    # last year's files are untouched and still answer
    assert (_digest(old_book), _digest(old_state)) == before
    code, out, err = cli(old_config, "run", "--as-of", "2024-12-20", "--json", "--dry-run")
    assert code == 0, err
    again = json.loads(out)
    assert {k: again[k] for k in ("tasks", "rows", "overdue", "missing_quarterly")} == {
        k: last_year[k] for k in ("tasks", "rows", "overdue", "missing_quarterly")}
    code, out, err = cli(old_config, "status", "--json")
    assert code == 0, err
    code, out, err = cli(old_config, "report", "--period", "2024Y", "--json")
    assert code == 0, err
    built = json.loads(out)
    assert built["period"] == "2024Y" and Path(built["path"]).exists()
