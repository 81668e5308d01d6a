"""The demo's sample entries: consistent by themselves, so that its input errors are its deliberate mistakes."""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from sync.backends.memory import MemoryBackend
from sync.core.history import AsOf
from sync.core.schema import STATUSES, Layout, Status
from sync.sheet.sync_pass import PassOptions
from sync.usecases.demo import fill_values, sample_row, seed
from sync.usecases.pipeline import run_pass

from .conftest import AS_OF

OPTS = PassOptions(AsOf(AS_OF), dt.datetime(2024, 9, 20, 8, 0))

#: What each of the demo's six mistakes is there to show: the columns of the issues on its row.
DELIBERATE = (
    ["status"],                 # 'xong' is not one of the statuses
    ["done_date", "evidence"],  # 'Hoàn thành' typed over a row with neither a date nor evidence
    ["done_date"],              # 31/02/2024 is not a date
    ["quantity"],               # '5 tin' is not a number
    ["evidence"],               # 'htps://' is not a link
    ["q2"],                     # a formula
)


def _errors(plan, **mistakes):
    backend = MemoryBackend()
    seed(backend, plan, AS_OF, **mistakes)
    return run_pass(backend, plan, Layout(), OPTS).summary.errors


def test_without_its_mistakes_the_demo_has_no_input_errors(plan):
    assert [(i.row, i.column, i.message) for i in _errors(plan, mistakes=0)] == []


def test_the_demos_input_errors_are_exactly_its_deliberate_mistakes(plan):
    """As the demo builds it (its default mistakes): each mistake's row has its issues, no other row has any."""
    clean, typed = fill_values(plan, AS_OF, mistakes=0), fill_values(plan, AS_OF)
    touched = [i for i, (a, b) in enumerate(zip(clean, typed, strict=True)) if a != b]
    assert len(touched) == len(DELIBERATE)  # one row per mistake
    rows = {index + 2: kinds for index, kinds in zip(touched, DELIBERATE, strict=True)}  # header on row 1
    errors = _errors(plan)
    by_row: dict[int, list[str]] = {}
    for issue in errors:
        by_row.setdefault(issue.row, []).append(issue.column)
    assert {row: sorted(kinds) for row, kinds in by_row.items()} == rows
    assert Counter(i.column for i in errors) == Counter(kind for kinds in DELIBERATE for kind in kinds)


def test_results_are_typed_only_where_work_happened():
    rng = random.Random(7)
    idle = {STATUSES[Status.NOT_STARTED], STATUSES[Status.CANCELLED]}
    seen: Counter[tuple[bool, bool]] = Counter()
    for n in range(2000):
        due = dt.date(2024, 1, 1) + dt.timedelta(days=n % 366)
        row = sample_row(due, n % 3 == 0, AS_OF, rng)
        results = [k for k in ("q1", "q2", "q3", "q4") if row.get(k)]
        seen[row["status"] in idle, bool(results)] += 1
    assert seen[True, True] == 0
    assert seen[True, False] > 0 and seen[False, True] > 0  # both kinds of row are drawn


def test_the_demos_own_command_line_says_what_is_wrong_without_a_traceback(monkeypatch, capsys, tmp_path):
    """`python -m sync.entry.demo` (make demo, make dashboard-png): a bad date or picture name is exit 2 from
    argparse, and drawing without LibreOffice names the Calc package, not the report's --pdf advice."""
    from sync import files
    from sync.entry import demo
    cases = [(["--as-of", "bogus"], "không phải ngày"), (["--png", str(tmp_path / "x.txt")], "đuôi .png")]
    for argv, says in cases:
        monkeypatch.setattr("sys.argv", ["demo", *argv])
        with pytest.raises(SystemExit) as exit_:
            demo.main()
        assert exit_.value.code == 2 and says in capsys.readouterr().err
    monkeypatch.setattr(files, "soffice", lambda: None)
    monkeypatch.setattr(files, "pdftoppm", lambda: "/usr/bin/pdftoppm")
    monkeypatch.setattr("sys.argv", ["demo", "--png", str(tmp_path / "x.png")])
    with pytest.raises(SystemExit) as exit_:
        demo.main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "libreoffice-calc-nogui" in err and "--pdf" not in err
    assert not (tmp_path / "x.png").exists()
