"""The layer rule, read from the source of every module (lazy imports inside functions too).

core < model < {io, live, sim, demo} < scenario < render < qt < app < cli: a package imports
only packages below it (siblings of one level never import each other); only render imports
VTK and pyvista, only qt and app import Qt, only live/mqtt.py imports paho; no two
modules import each other, directly or round a longer circle.
``test_import_rule.py`` checks the same at run time for the Qt- and VTK-free packages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "app" / "citytwin"
RANK = {"core": 0, "model": 1, "io": 2, "live": 2, "sim": 2, "demo": 2, "scenario": 3, "render": 4,
        "qt": 5, "app": 6, "cli": 7, "__main__": 8}
THIRD_PARTY = {  # top-level import -> the packages allowed to import it
    "vtk": {"render"}, "vtkmodules": {"render"}, "pyvista": {"render"},
    "PySide6": {"qt", "app"}, "pyvistaqt": {"qt"},
}
MODULES = {
    ".".join(["citytwin", *p.relative_to(ROOT).with_suffix("").parts]).removesuffix(".__init__"): p
    for p in sorted(ROOT.rglob("*.py"))
}


def imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """``(absolute module name, line)`` of every import in the file."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # from . import a, b
                    for alias in node.names:
                        yield f"{name}.{alias.name}", node.lineno
                    continue
                yield name, node.lineno
            elif node.module:
                yield node.module, node.lineno


def package_of(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def test_every_module_is_in_a_known_package() -> None:
    unknown = {package_of(m) for m in MODULES} - set(RANK) - {"__init__"}
    assert not unknown, f"add these packages to the layer rule: {sorted(unknown)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if package_of(m) in RANK))
def test_module_imports_only_lower_layers(module: str) -> None:
    own = package_of(module)
    bad = []
    for name, line in imports(module, MODULES[module]):
        top = name.split(".")
        if top[0] == "citytwin" and len(top) > 1 and top[1] in RANK:
            if top[1] != own and RANK[top[1]] >= RANK[own]:
                bad.append(f"line {line}: {own} imports {top[1]} ({name})")
        allowed = THIRD_PARTY.get(top[0])
        if allowed is not None and own not in allowed:
            bad.append(f"line {line}: {own} imports {name}")
        if top[0] == "paho" and module != "citytwin.live.mqtt":
            bad.append(f"line {line}: only citytwin.live.mqtt imports paho")
    assert not bad, f"{module}: " + "; ".join(bad)


def _module_graph() -> dict[str, set[str]]:
    """Module -> the modules it imports (an import of a package's ``__init__`` does not
    count: packages re-export their modules, which is not a circle)."""
    files = {m for m, p in MODULES.items() if p.name != "__init__.py"}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for m in files:
        for name, _ in imports(m, MODULES[m]):
            parts = name.split(".")
            while parts and ".".join(parts) not in files:
                parts.pop()
            if parts and ".".join(parts) != m:
                graph[m].add(".".join(parts))
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_circles() -> None:
    assert _circles(_module_graph()) == []


def test_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []
