"""The package's shape, read from its source with `ast`: its layers, and no import cycle between modules or
between the folders of `sync/`.

Every import counts, at module level or inside a function (a lazy import is still a dependency). The layers
are named once, here (docs/design.md cites LAYERS); `python -m tests.test_architecture` prints the measures.
"""
from __future__ import annotations

import ast
from pathlib import Path

from sync.core.config import PROJECT_DIR

PACKAGES = ("sync",)

#: The layers, outermost first, each a set of folders (or modules) of `sync/`. A module may import its own
#: layer or one further in, never one further out: entry points → use cases → adapters → core. The use cases
#: plug the adapters in; the core (plain data in, plain data out) imports no adapter.
LAYERS = {
    "entry points": ("sync.__main__", "sync.entry"),
    "use cases": ("sync.usecases",),
    "adapters": ("sync.backends", "sync.state", "sync.mail", "sync.reports", "sync.plan_import", "sync.files"),
    "core": ("sync.core", "sync.sheet"),
}


def module_name(path: Path, root: Path = PROJECT_DIR) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((PROJECT_DIR / pkg).rglob("*.py"))}


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of PACKAGES that `name` imports anywhere in its source."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, path.name == "__init__.py", node)
            # `from . import history` names a module; `from .plan import Plan` an attribute of one
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            # a name that is no module is its module's attribute (a package's submodule does not depend on the
            # package's __init__ that Python runs first: that would make every package a cycle)
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layer_of(name: str) -> int:
    """0 for an entry point, 1 for a use case, 2 for an adapter, 3 for the core; -1 for a module of no layer."""
    for rank, members in enumerate(LAYERS.values()):
        if any(name == m or name.startswith(m + ".") for m in members):
            return rank
    return -1


def folder_of(name: str) -> str:
    """The folder of `sync/` a module lives in (`sync.core.plan` → `sync.core`); a top-level module is its own."""
    return ".".join(name.split(".")[:2])


def folders(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The import graph between the folders of `sync/`."""
    out: dict[str, set[str]] = {}
    for name, targets in edges.items():
        out.setdefault(folder_of(name), set()).update(folder_of(t) for t in targets if folder_of(t) != folder_of(name))
    return out


def outward(edges: dict[str, set[str]]) -> list[str]:
    """Every import that points to a layer further out than its own module's."""
    return sorted(f"{name} → {target}" for name, targets in edges.items() for target in targets
                  if layer_of(target) < layer_of(name))


def test_the_graph_is_read_from_the_source():
    edges = graph()
    assert "sync.core.plan" in edges["sync.usecases.run"]  # module level
    assert "sync.backends" in edges["sync.usecases.ports"]  # inside a function
    assert "sync.usecases.owed" in edges["sync.entry.daemon"]
    assert "sync.core.periods" in edges["sync.reports.content"]  # across folders


def test_every_module_has_a_layer():
    assert [name for name in graph() if name != "sync" and layer_of(name) < 0] == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_no_cycle_between_folders():
    """`sync/core` and `sync/sheet` never import the report, the state, mail or a backend: the folders form
    a one-way graph."""
    assert cycles(folders(graph())) == []


def test_the_cycle_finder_finds_one():  # the tests above can fail
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert cycles(folders({"sync.core.x": {"sync.sheet.y"}, "sync.sheet.y": {"sync.core.z"}})) == [
        ["sync.core", "sync.sheet"]]


def test_dependencies_point_inwards():
    """entry points → use cases → adapters → core: no module imports one of a layer further out than its own."""
    assert outward(graph()) == []


def test_a_deliberate_violation_is_caught(tmp_path):
    """The same reader on a planted tree: a core module that reads the state file, an adapter that calls a use
    case, and a use case that calls the command line are each one outward import."""
    for rel, source in {"sync/core/rules.py": "from sync.state import store\n",
                        "sync/state/store.py": "def f():\n    from sync.usecases.run import run\n",
                        "sync/usecases/run.py": "import sync.entry.cli\n",
                        "sync/entry/cli.py": "from sync.usecases import run\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(source)
    planted = {module_name(p, tmp_path): p for p in tmp_path.rglob("*.py")}
    edges = {name: imports_of(name, path, set(planted)) for name, path in planted.items()}
    assert outward(edges) == ["sync.core.rules → sync.state.store", "sync.state.store → sync.usecases.run",
                              "sync.usecases.run → sync.entry.cli"]


#: The one module that may put entry points together: `python -m sync` plugs the daemon into the command line.
COMPOSITION_ROOT = "sync.__main__"


def entry_shortcuts(edges: dict[str, set[str]]) -> list[str]:
    """Every import by an entry point of an adapter or of another entry point: entry points call use cases
    (and read the core's types); only COMPOSITION_ROOT joins them."""
    return sorted(f"{name} → {target}" for name, targets in edges.items()
                  if layer_of(name) == 0 and name != COMPOSITION_ROOT
                  for target in targets if layer_of(target) in (0, 2) and not name.startswith(target + "."))


def test_entry_points_call_only_use_cases():
    """DESIGN §7: the CLI and the daemon call the use cases, neither calls the other; no entry point opens a
    state file, a workbook or a mailer itself (the adapters are plugged in by the use cases)."""
    assert entry_shortcuts(graph()) == []


def test_an_entry_point_reaching_past_the_use_cases_is_caught():
    edges = {"sync.entry.cli": {"sync.usecases.run", "sync.state.store", "sync.entry.daemon", "sync.core.plan"},
             "sync.entry.daemon": {"sync.usecases.run"}, "sync.entry.demo": {"sync.backends.local"},
             "sync.__main__": {"sync.entry.cli", "sync.entry.daemon"}}
    assert entry_shortcuts(edges) == ["sync.entry.cli → sync.entry.daemon", "sync.entry.cli → sync.state.store",
                                      "sync.entry.demo → sync.backends.local"]


def test_the_daemon_never_goes_through_the_command_line():
    assert "sync.entry.cli" not in graph()["sync.entry.daemon"]


def test_the_daemon_calls_only_use_cases():
    """No state file, workbook, plan file or mail opened by the daemon itself: each goes through a use case
    (`perform` in sync/entry/daemon.py calls them; sync/usecases/owed.py), as a command would."""
    assert sorted(t for t in graph()["sync.entry.daemon"] if layer_of(t) == 2 or t == "sync.core.plan") == []


def test_the_report_builds_on_the_core():
    """sync/reports/__init__.py's docstring: the report's building blocks read the core; only use cases use them."""
    edges = graph()
    users = sorted({folder_of(name) for name, targets in edges.items()
                    if not name.startswith("sync.reports") and any(t.startswith("sync.reports") for t in targets)})
    assert users == ["sync.usecases"]
    assert folders(edges)["sync.reports"] <= {"sync.core", "sync.sheet", "sync.files"}


#: The longest a function may be, in lines, outside tests: longer ones hide more than one step.
MAX_FUNCTION_LINES = 60
#: Functions allowed to be longer: none (a function that must be longer says why here).
LONG_FUNCTIONS: set[str] = set()


def long_functions(root: Path = PROJECT_DIR) -> set[str]:
    found = set()
    for pkg in ("sync", "bench"):
        for path in sorted((root / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    if (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES:
                        found.add(f"{module_name(path, root)}.{node.name}")
    return found


def test_no_function_over_60_lines():
    assert long_functions() <= LONG_FUNCTIONS, "split these functions"
    assert LONG_FUNCTIONS <= long_functions(), "remove from LONG_FUNCTIONS what is short now"


def test_a_long_function_is_found(tmp_path):
    (tmp_path / "sync").mkdir()
    (tmp_path / "sync" / "big.py").write_text("def big():\n" + "    x = 1\n" * 60 + "\n\ndef small():\n    pass\n")
    assert long_functions(tmp_path) == {"sync.big.big"}


def longest_chain(edges: dict[str, set[str]]) -> list[str]:
    """The longest path of imports (the graph has no cycle: test_no_import_cycles)."""
    best: dict[str, list[str]] = {}

    def chain(v: str) -> list[str]:
        if v not in best:
            best[v] = [v] + max((chain(w) for w in edges.get(v, ()) if w in edges), key=len, default=[])
        return best[v]

    return max((chain(v) for v in sorted(edges)), key=len, default=[])


def measures(edges: dict[str, set[str]]) -> dict[str, object]:
    """What the closing notes of a restructure compare: modules, import edges, the longest chain of imports,
    imports that point to a layer further out, and modules per folder."""
    per_folder: dict[str, int] = {}
    for name in edges:
        per_folder[folder_of(name)] = per_folder.get(folder_of(name), 0) + 1
    return {"modules": len(edges), "import edges": sum(len(t) for t in edges.values()),
            "longest chain": len(longest_chain(edges)), "chain": " → ".join(longest_chain(edges)),
            "outward imports": len(outward(edges)), "folders": dict(sorted(per_folder.items()))}


def test_the_measures_count_what_they_say():
    edges = {"sync.entry.cli": {"sync.usecases.run"}, "sync.usecases.run": {"sync.core.plan"},
             "sync.core.plan": set(), "sync.core.schema": {"sync.usecases.run"}}
    m = measures(edges)
    assert (m["modules"], m["import edges"], m["longest chain"], m["outward imports"]) == (4, 3, 3, 1)


if __name__ == "__main__":  # python -m tests.test_architecture: the measures of today's tree
    for key, value in measures(graph()).items():
        print(f"{key}: {value}")
