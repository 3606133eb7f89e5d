"""No import circles: every module imports alone, and the module-level import graph is acyclic (issue 16).

The graph has an edge from a module to each clvlab module its module-level code imports: ``import a.b``
and ``from a import b`` (an edge to ``a.b`` if that is a module, else to ``a``), in the module body, in
class bodies and in module-level ``if``/``try``/``with`` blocks, but not inside functions (imported on
call) nor under ``if TYPE_CHECKING:`` (never run). The package ``__init__`` that Python runs before a
submodule is not an edge of the submodule: otherwise every package face importing its own submodules
would count as a circle.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "clvlab"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
HAS_PYMC = importlib.util.find_spec("pymc") is not None


def _needs_pymc(name: str) -> bool:
    return name == "clvlab.bayes" or name.startswith("clvlab.bayes.")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _module_level_imports(node.body)
            found += _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                found += _module_level_imports(block)
        elif isinstance(node, ast.With | ast.ClassDef):  # class bodies run at import time
            found += _module_level_imports(node.body)
    return found


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def import_graph() -> dict[str, set[str]]:
    """clvlab module -> the clvlab modules its module-level code imports."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges: set[str] = set()
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _resolve(module, node)
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                    for alias in node.names
                ]
            edges |= {t for t in targets if t in MODULES and t != module}
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_graph_sees_imports():
    # A guard on the parser itself: known edges are found, function-level and TYPE_CHECKING ones are not.
    graph = import_graph()
    assert "clvlab.persistence" in graph["clvlab.models"]  # the MLE family registers with persistence
    assert "clvlab.persistence" in graph["clvlab.bayes"]  # and so does the Bayesian one
    assert "clvlab.errors" in graph["clvlab.bayes.persistence"]
    assert "clvlab.models.base" not in graph["clvlab.draws"]  # under `if TYPE_CHECKING:`
    assert "clvlab.persistence" not in graph["clvlab.models.base"]  # inside BaseModel.save
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_module_level_import_graph_has_no_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_persistence_imports_no_model_family():
    graph = import_graph()
    assert not {m for m in graph["clvlab.persistence"] if m.startswith(("clvlab.models", "clvlab.bayes"))}


def _import_alone(module: str) -> tuple[str, str | None]:
    run = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    return module, None if run.returncode == 0 else run.stderr.strip().splitlines()[-1]


@pytest.mark.slow  # one interpreter per module: about a minute and a half on two cores
def test_every_module_imports_alone_in_a_fresh_interpreter():
    """``python -c "import clvlab.x"`` for every module (clvlab.bayes.* only where PyMC is installed).

    ``clvlab.__main__`` is left out: importing it runs the command line (``python -m clvlab``), and its
    only import, ``clvlab.cli``, is checked here.
    """
    modules = [m for m in MODULES if m != "clvlab.__main__" and (HAS_PYMC or not _needs_pymc(m))]
    with ThreadPoolExecutor(max_workers=2) as pool:  # the machine has two cores
        failures = {m: err for m, err in pool.map(_import_alone, modules) if err is not None}
    assert not failures, failures


@pytest.mark.skipif(not HAS_PYMC, reason="needs the bayes extra (PyMC) to read a posterior file")
def test_load_reads_a_bayesian_file_without_import_clvlab_bayes():
    # The netCDF loader is registered by clvlab.bayes; load imports it on demand through the registry.
    path = Path(__file__).parent / "bayes" / "files" / "bgnbd_pymc6.nc"
    code = (
        "import sys, warnings, clvlab\n"
        "assert 'clvlab.bayes' not in sys.modules\n"
        "warnings.simplefilter('ignore')\n"
        f"m = clvlab.load({str(path)!r})\n"
        "print(type(m).__module__, type(m).__name__)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["clvlab.bayes.models", "BetaGeo"]
