"""The docs teach by example, and the examples hold: README's tour runs as written on the demo and prints the
figures README shows; every command's `--help` ends with an example that parses; every path a docstring or a
comment of `sync/` cites, and every link of the docs, exists; every settings key is in docs/configuration.md."""
from __future__ import annotations

import ast
import functools
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from pydantic import BaseModel

from sync.core.config import PROJECT_DIR, Settings
from sync.entry.cli import COMMANDS, EXAMPLES, GROUPS, build_parser

from .cli_helpers import in_process

README = PROJECT_DIR / "README.md"
DOCS = sorted((PROJECT_DIR / "docs").glob("*.md"))


def _between(text: str, marker: str) -> list[str]:
    """The lines of the fenced block between `<!-- marker -->` and `<!-- /marker -->`."""
    found = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```\n<!-- /{marker} -->", text, re.S)
    assert found, f"README has no block between <!-- {marker} --> and <!-- /{marker} -->"
    return [line for line in found.group(1).splitlines() if line.strip()]


def test_readme_is_at_most_200_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


# --- README's tour -------------------------------------------------------------------------------------------

def tour_commands(text: str) -> list[list[str]]:
    """The tour's lines as argument lists, comments dropped; each is one of the three forms README may use."""
    commands = []
    for line in _between(text, "tour"):
        words = shlex.split(line, comments=True)
        allowed = words == [".", ".venv/bin/activate"] or words == ["make", "demo"] or words[:3] == [
            "python", "-m", "sync"]
        assert allowed, f"a tour line the test does not know how to run: {line!r}"
        commands.append(words)
    return commands


def _make_demo(folder: Path) -> subprocess.CompletedProcess:
    """`make demo` in `folder` with this interpreter as the venv's (its packages are those `make run` installs)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run(["make", "-s", "-o", ".venv/.installed", "demo", f"PY={sys.executable}"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.long
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make, as `make run` does")
def test_the_readme_tour_runs_as_written_and_prints_what_readme_shows(tmp_path):
    """A fresh project folder (the repository's config and Makefile; no data, no state), then README's tour line
    by line: `make demo` as a process, each `python -m sync …` in this process (the same `main`). Every command
    exits 0, and every line README shows under the tour is printed by one of them."""
    text = README.read_text(encoding="utf-8")
    shutil.copytree(PROJECT_DIR / "config", tmp_path / "config", ignore=shutil.ignore_patterns("settings.yaml"))
    shutil.copy(PROJECT_DIR / "Makefile", tmp_path)
    printed = []
    for words in tour_commands(text):
        if words[0] == ".":
            continue  # the venv: this interpreter already has its packages
        done = _make_demo(tmp_path) if words[0] == "make" else in_process(*words[3:], cwd=tmp_path)
        assert done.returncode == 0, (words, done.stdout, done.stderr)
        printed.append(done.stdout)
    out = "".join(printed)
    for line in _between(text, "tour-output"):
        assert line in out, f"README shows a line the tour does not print:\n{line}"
    assert (tmp_path / "data/demo/theo-doi-cchc-2024.xlsx").is_file()
    assert not (tmp_path / "state").exists() and not (tmp_path / "reports").exists()  # all of it under data/demo


def test_make_demo_starts_the_demo_over(tmp_path):
    """What README says of `make demo`: its recipe deletes data/demo/ before building it again."""
    makefile = (PROJECT_DIR / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "the Makefile has no demo target"
    assert "rm -rf $(DEMO_DIR)" in recipe.group(1) and "DEMO_DIR := data/demo" in makefile
    assert "--out $(DEMO_DIR)/theo-doi-cchc-2024.xlsx" in recipe.group(1)
    demo = (PROJECT_DIR / "config/demo.yaml").read_text(encoding="utf-8")
    for key in ("path: data/demo/", "state: data/demo/", "out_dir: data/demo/", "outbox_dir: data/demo/"):
        assert key in demo, key


# --- --help ----------------------------------------------------------------------------------------------------

HELPS = ["", *GROUPS, *COMMANDS]


@pytest.mark.parametrize("name", HELPS, ids=lambda n: n or "python -m sync")
def test_every_help_ends_with_one_example_that_parses(name, tmp_path):
    done = in_process(*name.split(), "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line, what = EXAMPLES[name]
    assert done.stdout.count("ví dụ:") == 1
    assert done.stdout.rstrip().endswith(f"ví dụ:\n  {line}\n      {what}"), done.stdout
    words = shlex.split(line)
    assert words[:3] == ["python", "-m", "sync"]
    args = build_parser().parse_args(words[3:])  # an example that does not parse raises UserError (exit 2) here
    command = f"{args.command} {getattr(args, f'{args.command}_command', None) or ''}".strip()
    if name:  # a command's example runs that command; a group's, one of the group's
        assert command == name or command.startswith(f"{name} ")


def test_every_command_and_group_has_an_example():
    assert set(EXAMPLES) == {"", *GROUPS, *COMMANDS}


# --- paths cited in sync/ --------------------------------------------------------------------------------------

#: A path of the repository: under one of its folders, a top-level Markdown file, or a word before "§".
FOLDER_PATH = re.compile(r"(?<![\w./-])((?:sync|docs|tests|config|bench)/[\w./-]*[\w/])")
TOP_MARKDOWN = re.compile(r"(?<![\w./-])([A-Z][A-Z_]*\.md)\b")
SECTION = re.compile(r"([\w./-]+)\s*§")
BARE_MODULE = re.compile(r"(?<![\w./-])([a-z_][a-z0-9_]*\.py)\b")


def _ignored(path: str) -> bool:
    """A path .gitignore keeps out (the Office's own config/settings.yaml, data/, state/): the user's file, named
    on purpose, not a file of the repository."""
    patterns = [p.strip() for p in (PROJECT_DIR / ".gitignore").read_text().splitlines() if p.startswith("/")]
    return any(f"/{path}" == p.rstrip("/") or f"/{path}".startswith(p if p.endswith("/") else p + "/")
               for p in patterns)


def cited_texts(source: str) -> list[tuple[int, str]]:
    """The docstrings (module, class, function, attribute) and the comments of a module, with their lines."""
    texts = [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            texts.append((node.lineno, node.value.value))
    return texts


@functools.cache
def _module_names(root: Path) -> frozenset[str]:
    return frozenset(p.name for folder in ("sync", "tests", "bench") for p in (root / folder).rglob("*.py"))


def missing_citations(source: str, root: Path = PROJECT_DIR) -> list[str]:
    """Each path a docstring or comment of `source` cites that `root` does not have."""
    modules = _module_names(root)
    missing = []
    for line, text in cited_texts(source):
        paths = [m.rstrip("./") for pattern in (FOLDER_PATH, TOP_MARKDOWN, SECTION) for m in pattern.findall(text)]
        missing += [f"{line}: {p}" for p in paths if not (root / p).exists() and not _ignored(p)]
        missing += [f"{line}: {m}" for m in BARE_MODULE.findall(text) if m not in modules]
    return missing


def test_every_path_a_docstring_or_comment_of_sync_cites_exists():
    missing = {str(path.relative_to(PROJECT_DIR)): found for path in sorted((PROJECT_DIR / "sync").rglob("*.py"))
               if (found := missing_citations(path.read_text(encoding="utf-8")))}
    assert missing == {}


def test_the_citation_check_finds_a_path_that_is_not_there():
    source = ('"""The command line (DESIGN.md §5); see docs/nowhere.md."""\n'
              "X = 1  # the ledger lives in state.py, see DESIGN §3 and sync/core/config.py\n"
              'MESSAGE = "sync/not/a/citation.py"  # a string that is no docstring is not read\n')
    assert sorted(missing_citations(source)) == ["1: DESIGN.md", "1: DESIGN.md", "1: docs/nowhere.md", "2: DESIGN",
                                                 "2: state.py"]


# --- the docs' own links and paths ----------------------------------------------------------------------------

def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_anchor(m) for m in re.findall(r"^#+ (.*)$", path.read_text(encoding="utf-8"), re.M)}


@pytest.mark.parametrize("doc", [README, PROJECT_DIR / "CONTRIBUTING.md", *DOCS], ids=lambda p: p.name)
def test_every_link_and_code_path_of_the_docs_exists(doc):
    text = doc.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        where = (doc.parent / file) if file else doc
        if not where.exists():
            broken.append(target)
        elif anchor and where.suffix == ".md" and anchor not in _anchors(where):
            broken.append(target)
    for span in re.findall(r"`([^`\n]+)`", text):
        broken += [p for p in re.findall(r"(?<![\w./-])((?:sync|tests|docs|bench)/[\w./-]*[\w/])", span)
                   if not (PROJECT_DIR / p).exists()]
    assert broken == []


# --- configuration -------------------------------------------------------------------------------------------

def settings_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        key = prefix + (field.alias or name)
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            keys += settings_keys(sub, key + ".")
        else:
            keys.append(key)
    return keys


def test_every_settings_key_is_in_the_configuration_doc():
    text = (PROJECT_DIR / "docs/configuration.md").read_text(encoding="utf-8")
    keys = settings_keys(Settings)
    assert len(keys) > 50
    assert [key for key in keys if f"`{key}`" not in text] == []
