"""The package's import structure: the client and the store stand alone, and nothing is circular.

``client/`` (HTTP) and ``store/`` (the operational database) are used by everything above them
(the web service, the Dagster code, the CLI) and by people's own scripts; they share only the
modules below both (settings, errors, request records, redaction, database helpers). Read from
the source with :mod:`ast`, so that an import hidden in a function counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

import tiktok_pipeline

PACKAGE = "tiktok_pipeline"
ROOT = Path(tiktok_pipeline.__file__).parent
#: What client/ and store/ must never reach, directly or through the modules they import.
FORBIDDEN_BELOW = (
    "dagster",
    "tiktok_pipeline.web",
    "tiktok_pipeline.sandbox",
    "tiktok_pipeline.defs",
    "tiktok_pipeline.cli",
    "tiktok_pipeline.definitions",
)


@dataclass(frozen=True)
class Import:
    """One imported module, where it is imported, and whether only type checkers see it."""

    target: str
    line: int
    type_checking_only: bool


@dataclass
class Module:
    """A module of the package and what it imports."""

    name: str
    path: Path
    imports: list[Import] = field(default_factory=list)

    @property
    def is_package(self) -> bool:
        """True for an ``__init__.py``."""
        return self.path.name == "__init__.py"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


@cache
def modules() -> dict[str, Module]:
    """Every module of the package (migration scripts included), by dotted name."""
    found = {_module_name(path): Module(_module_name(path), path) for path in ROOT.rglob("*.py")}
    for module in found.values():
        tree = ast.parse(module.path.read_text(), filename=str(module.path))
        _collect(module, tree, found, type_checking_only=False)
    return found


def _collect(module: Module, node: ast.AST, known: dict[str, Module], type_checking_only: bool):
    for child in ast.iter_child_nodes(node):
        hidden = type_checking_only or _is_type_checking(child)
        if isinstance(child, ast.Import):
            for alias in child.names:
                module.imports.append(Import(alias.name, child.lineno, hidden))
        elif isinstance(child, ast.ImportFrom):
            base = _absolute(module, child)
            for alias in child.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in known else base
                module.imports.append(Import(target, child.lineno, hidden))
        _collect(module, child, known, hidden)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*parts, *([node.module] if node.module else [])])


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _in_package(folder: str) -> list[Module]:
    return [m for name, m in sorted(modules().items()) if _within(name, f"{PACKAGE}.{folder}")]


def _internal_target(target: str) -> str | None:
    """The package module an import runs (the nearest existing one), or None if external."""
    if not _within(target, PACKAGE):
        return None
    while target not in modules():
        target = target.rpartition(".")[0]
    return target


def _runtime_closure(start: str) -> dict[str, str]:
    """Every import reachable at runtime from ``start``, each with the chain that reaches it.

    Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first, so parents count.
    """
    chains: dict[str, str] = {start: start}
    pending = [start]
    while pending:
        current = pending.pop()
        for imported in modules()[current].imports:
            if imported.type_checking_only:
                continue
            names = [imported.target]
            internal = _internal_target(imported.target)
            if internal is not None:
                parts = internal.split(".")
                names = [".".join(parts[: i + 1]) for i in range(len(parts))]
            for name in names:
                if name in chains:
                    continue
                chains[name] = f"{chains[current]} -> {name}"
                if name in modules():
                    pending.append(name)
    return chains


def test_client_and_store_do_not_import_each_other() -> None:
    crossings = [
        f"{module.path.relative_to(ROOT.parent)}:{imported.line} imports {imported.target}"
        for own, other in (("client", "store"), ("store", "client"))
        for module in _in_package(own)
        for imported in module.imports
        if _within(imported.target, f"{PACKAGE}.{other}")
    ]
    assert _in_package("client") and _in_package("store")
    assert crossings == []


def test_client_and_store_reach_no_dagster_web_or_sandbox() -> None:
    reached = []
    for own, other in (("client", "store"), ("store", "client")):
        for module in _in_package(own):
            for name, chain in _runtime_closure(module.name).items():
                if any(_within(name, bad) for bad in (*FORBIDDEN_BELOW, f"{PACKAGE}.{other}")):
                    reached.append(chain)
    assert reached == []


def test_the_package_has_no_import_cycles() -> None:
    cycles = [" -> ".join([*cycle, cycle[0]]) for cycle in _import_cycles()]
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def _import_cycles() -> list[list[str]]:
    """Groups of modules that import each other at runtime, each as one cycle through them."""
    graph = {
        name: sorted(
            {
                target
                for imported in module.imports
                if not imported.type_checking_only
                and (target := _internal_target(imported.target)) is not None
                and target != name
            }
        )
        for name, module in modules().items()
    }
    return [
        _cycle_through(graph, set(group)) for group in _strongly_connected(graph) if len(group) > 1
    ]


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph[successor])))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group))
    return groups


def _cycle_through(graph: dict[str, list[str]], group: set[str]) -> list[str]:
    """One cycle inside a strongly connected group, starting at its first module."""
    start = min(group)
    paths = {start: [start]}
    pending = [start]
    while pending:
        node = pending.pop(0)
        for successor in graph[node]:
            if successor == start:
                return paths[node]
            if successor in group and successor not in paths:
                paths[successor] = [*paths[node], successor]
                pending.append(successor)
    raise AssertionError(f"no cycle through {sorted(group)}")


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": []}
    assert [sorted(g) for g in _strongly_connected(graph) if len(g) > 1] == [["a", "b", "c"]]
    assert _cycle_through(graph, {"a", "b", "c"}) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("package", "absent"),
    [
        pytest.param(
            "tiktok_pipeline.client",
            ("tiktok_pipeline.store", "sqlalchemy", "alembic"),
            id="the client loads no store and no database library",
        ),
        pytest.param(
            "tiktok_pipeline.store",
            ("tiktok_pipeline.client", "requests"),
            id="the store loads no client and no HTTP library",
        ),
    ],
)
def test_importing_one_loads_neither_the_other_nor_dagster(package: str, absent: tuple) -> None:
    unwanted = (*absent, "dagster", "tiktok_pipeline.web", "tiktok_pipeline.sandbox")
    script = (
        "import sys\n"
        f"import {package}\n"
        f"unwanted = {unwanted!r}\n"
        "print(sorted(m for m in sys.modules if any(m == u or m.startswith(u + '.') "
        "for u in unwanted)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        pytest.param(
            "sandbox",
            ("tiktok_pipeline.client", "tiktok_pipeline.store", "dagster"),
            id="the sandbox checks requests on its own, without the client",
        ),
        pytest.param(
            "warehouse",
            ("requests", "dagster", "tiktok_pipeline.client", "tiktok_pipeline.defs"),
            id="the warehouse knows neither HTTP nor Dagster",
        ),
    ],
)
def test_rooms_stay_within_their_walls(folder: str, forbidden: tuple[str, ...]) -> None:
    reached = [
        chain
        for module in _in_package(folder)
        for name, chain in _runtime_closure(module.name).items()
        if any(_within(name, bad) for bad in forbidden)
    ]
    assert _in_package(folder)
    assert reached == []


def test_no_module_imports_another_ones_private_names() -> None:
    private = []
    for module in modules().values():
        tree = ast.parse(module.path.read_text(), filename=str(module.path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = _absolute(module, node)
            if not _within(base, PACKAGE) or base == module.name:
                continue
            private += [
                f"{module.name}:{node.lineno} imports {base}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    assert private == []
