"""The package's layers: imports run one way, down the layers, and never in a circle.

docs/design.md describes the layers; ``LAYERS`` below is the same table, and a
new sub-package must be added to both. Every ``from ... import`` of a survkit
module counts, including those inside functions: an import deferred to call
time is still a dependency.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import survkit

ROOT = Path(survkit.__file__).parent

# sub-package (or top-level module) -> layer; a module may import from a lower
# layer or from its own sub-package, never from a higher layer or a sibling
# sub-package of the same layer.
LAYERS = {
    "_version": 0,
    "data": 0,
    "engine": 1,
    "models": 2,
    "nonparametric": 2,
    "diagnostics": 3,
    "metrics": 3,
    "organs": 4,
    "multistate": 4,
    "plots": 5,
    "report": 6,
    "simstudy": 6,
    "cli": 7,
}
# the generator is the other half of the project; estimation never reads it
MAY_IMPORT_SYNTHETIC = {"report", "simstudy", "cli"}


def _modules() -> list[str]:
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def _source(module: str) -> Path:
    path = ROOT.parent / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _imports(module: str) -> set[str]:
    """Every module named by an import statement in ``module`` (resolved to absolute names)."""
    path = _source(module)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            # `from . import kernels` names a module, not an attribute of the package
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _is_module(candidate) else target)
    return found


def _is_module(name: str) -> bool:
    if not name.startswith("survkit."):
        return False
    path = ROOT.parent / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


@pytest.mark.parametrize("module", [m for m in _modules() if m != "survkit"])
def test_module_imports_only_down_the_layers(module):
    room = _room(module)
    assert room in LAYERS, f"{module}: sub-package {room!r} has no layer; add it to LAYERS"
    bad = []
    for target in _imports(module):
        if target == "synthetic" or target.startswith("synthetic."):
            if room not in MAY_IMPORT_SYNTHETIC:
                bad.append(f"{target} (estimation layers never read the generator)")
            continue
        if not (target == "survkit" or target.startswith("survkit.")):
            continue
        other = _room(target)
        if other is None:
            bad.append(f"{target} (the package root sits above every layer)")
        elif other != room and (LAYERS[other] > LAYERS[room] or LAYERS[other] == LAYERS[room]):
            bad.append(f"{target} (layer {LAYERS[other]} from layer {LAYERS[room]})")
    assert not bad, f"{module} imports upward or sideways: {bad}"


def test_no_import_cycles():
    modules = set(_modules())
    graph = {m: {t for t in _imports(m) if t in modules and t != m} for m in modules}
    # a package's __init__ importing its own modules is how it exports them; the
    # reverse edge (a module importing its package) would then be a cycle
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle = [*stack[stack.index(t) :], t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m)


def test_every_module_imports_in_layer_order():
    # importing the lowest layers first proves each imports without the layers above
    order = sorted(
        (m for m in _modules() if m != "survkit" and not m.endswith("__main__")),
        key=lambda m: (LAYERS[_room(m)], m),
    )
    for module in order:
        importlib.import_module(module)


def test_public_names_import_from_the_package():
    for name in survkit.__all__:
        assert getattr(survkit, name) is not None, name
