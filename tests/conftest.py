"""Shared fixtures: the real 2024 plan, a project folder in tmp with its own config, and the CLI."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings

from sync.core.config import PROJECT_DIR
from sync.core.plan import load_plan
from sync.entry.cli import main

from .cli_helpers import in_process
from .strategies import FAST_SHARE, PROFILE

PLAN_PATH = PROJECT_DIR / "config/plans/ke-hoach-tuyen-truyen-cchc-2024.yaml"
AS_OF = dt.date(2024, 9, 20)

# Hypothesis: properties of the pure core run 200 examples each in the `full` profile (`make test-scale`, which
# runs every property test again, and CI); `make test` (and a bare `pytest`) runs the `fast` profile, a quarter
# of that. A test that goes through files or HTTP says its own smaller number through `strategies.examples`.
# `HYPOTHESIS_PROFILE=thorough` for a deeper search.
settings.register_profile("full", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fast", settings.get_profile("full"), max_examples=200 // FAST_SHARE)
settings.register_profile("thorough", settings.get_profile("full"), max_examples=2000)
settings.load_profile(PROFILE)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers set here
def pytest_collection_modifyitems(items):
    """Every Hypothesis test is marked `property` (`make test-scale` runs them again with the full count).
    The long tests first. pytest-xdist (worksteal) gives each worker a run of consecutive tests and lets an
    idle worker take from the end of the other's run: long tests at the start are run while the other worker
    goes through the short ones, instead of one worker finishing a 20 s test alone at the end."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in ("long", "scale")))  # stable


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

    def quiet_cli(self, *args: str) -> tuple[int, str, str]:
        """`cli` for a project without capsys (a template built once per test process)."""
        proc = in_process(*args, "--config", str(self.config), cwd=self.root)
        return proc.returncode, proc.stdout, proc.stderr

    def copy_to(self, project: Project) -> Project:
        """This (template) project's workbook and state file, copied into `project`."""
        project.workbook.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.workbook, project.workbook)
        state = self.root / "state.sqlite"
        if state.exists():
            shutil.copyfile(state, project.root / "state.sqlite")
        return project

    def run_json(self, as_of: dt.date = AS_OF, *extra: str) -> dict:
        code, out, err = self.cli("run", "--as-of", as_of.isoformat(), "--json", *extra)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def project(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path, capsys)


@pytest.fixture(scope="session")
def demo_workbook(tmp_path_factory) -> Path:
    """The demo workbook, built once per test process (seed and a pass); tests get their own copy."""
    from sync.usecases.demo import build_demo
    path = tmp_path_factory.mktemp("demo-template") / "wb.xlsx"
    build_demo(path, PLAN_PATH, AS_OF)
    return path


@pytest.fixture(scope="session")
def demo_ran_template(tmp_path_factory, demo_workbook) -> Path:
    """A folder where `run --as-of AS_OF --json` ran once per test process on an untouched copy of the demo
    workbook: the workbook and state file it left, and what it printed (summary.json), to be copied."""
    root = tmp_path_factory.mktemp("demo-ran")
    template = Project(root, None)
    template.workbook.parent.mkdir(parents=True)
    shutil.copyfile(demo_workbook, template.workbook)
    code, out, err = template.quiet_cli("run", "--as-of", AS_OF.isoformat(), "--json")
    assert code == 0, err
    (root / "summary.json").write_text(out, encoding="utf-8")
    return root


@pytest.fixture
def demo_summary(demo_ran_template) -> dict:
    """What `demo_project.run_json()` gives on the untouched demo workbook (the template's pass): the figures
    a test compares its changed copy with. Each test gets its own dict."""
    return json.loads((demo_ran_template / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture
def demo_ran_project(demo_project, demo_ran_template):
    """A demo project after its first pass, `run --as-of AS_OF` (exit 0): the workbook and state file copied."""
    return Project(demo_ran_template, None).copy_to(demo_project)


@pytest.fixture(scope="session")
def inited_template(tmp_path_factory) -> Path:
    """A folder where `init` ran once per test process: its workbook and state file, to be copied."""
    root = tmp_path_factory.mktemp("init-template")
    template = Project(root, None)
    assert main(["init", "--config", str(template.config)]) == 0
    return root


@pytest.fixture
def demo_project(project, demo_workbook):
    """A project whose workbook holds the demo's sample entries (76 rows, some late, some wrong)."""
    project.workbook.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo_workbook, project.workbook)
    return project


@pytest.fixture
def inited_project(project, inited_template):
    """A project just after `python -m sync init`: the workbook and the state file init left (copied)."""
    return Project(inited_template, None).copy_to(project)
