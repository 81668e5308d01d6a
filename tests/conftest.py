"""Shared fixtures: the real 2024 plan, a project folder in tmp with its own config, and the CLI."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from sync.cli import main
from sync.config import PROJECT_DIR
from sync.plan import load_plan

PLAN_PATH = PROJECT_DIR / "config/plans/ke-hoach-tuyen-truyen-cchc-2024.yaml"
AS_OF = dt.date(2024, 9, 20)


@pytest.fixture(scope="session")
def plan():
    return load_plan(PLAN_PATH)


class Project:
    """A folder with a settings file, where commands run as the Office runs them."""

    def __init__(self, root: Path, capsys):
        self.root = root
        self.capsys = capsys
        self.workbook = root / "data" / "wb.xlsx"
        self.write_config({})

    @property
    def config(self) -> Path:
        return self.root / "settings.yaml"

    def write_config(self, overrides: dict) -> None:
        base = {"local": {"path": str(self.workbook)}, "state": str(self.root / "state.sqlite"),
                "plan": str(PLAN_PATH)}
        base.update(overrides)
        self.config.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")

    def cli(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*args, "--config", str(self.config)])
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def run_json(self, as_of: dt.date = AS_OF, *extra: str) -> dict:
        code, out, err = self.cli("run", "--as-of", as_of.isoformat(), "--json", *extra)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def project(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path, capsys)


@pytest.fixture
def demo_project(project):
    """A project whose workbook holds the demo's sample entries (76 rows, some late, some wrong)."""
    from sync.demo import build_demo
    build_demo(project.workbook, PLAN_PATH, AS_OF)
    return project
