"""The package's shape, read from its source with `ast`: no import cycles in `sync/` and `reports/`, and the
dependency direction core ← services ← entry points.

Every import counts, at module level or inside a function (a lazy import is still a dependency). The layers
are named once, here (README's "How it is built" cites LAYERS).
"""
from __future__ import annotations

import ast
from pathlib import Path

from sync.config import PROJECT_DIR

PACKAGES = ("sync", "reports")

#: The layers, outermost first. Every module of PACKAGES not named here is the core (domain, adapters, the
#: report's content and rendering): it imports neither the use cases nor an entry point.
LAYERS = {
    "entry points": ("sync.__main__", "sync.cli", "sync.daemon"),
    "services": ("sync.services",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
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
    """0 for an entry point, 1 for the services, 2 for the core."""
    for rank, members in enumerate(LAYERS.values()):
        if name in members:
            return rank
    return len(LAYERS)


def test_the_graph_is_read_from_the_source():
    edges = graph()
    assert "sync.plan" in edges["sync.services"]  # module level
    assert "sync.backends" in edges["sync.services"]  # inside a function
    assert "sync.services" in edges["sync.daemon"] and "sync.services" in edges["sync.cli"]
    assert "sync.periods" in edges["reports.content"]  # across the two packages
    assert set(LAYERS["entry points"]) | set(LAYERS["services"]) <= set(edges)  # no layer names a ghost


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_one():  # the test above can fail
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_dependencies_point_inwards():
    """core ← services ← entry points: no module imports one of a layer further out than its own."""
    wrong = sorted(f"{name} → {target}" for name, targets in graph().items() for target in targets
                   if layer_of(target) < layer_of(name))
    assert wrong == []


def test_the_daemon_never_goes_through_the_command_line():
    assert "sync.cli" not in graph()["sync.daemon"]


def test_reports_says_what_it_depends_on():
    """reports/__init__.py's docstring: it builds on the core, and only services (and notify's file name of a
    report) use it; the core's pure modules do not."""
    users = sorted(name for name, targets in graph().items()
                   if not name.startswith("reports") and any(t.startswith("reports") for t in targets))
    assert users == ["sync.dashboard_png", "sync.notify", "sync.services"]
