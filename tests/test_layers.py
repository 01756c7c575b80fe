"""The engine's import graph: acyclic, layered, UI-free.

Floors, from the bottom: ``errors``/``units`` → ``model`` → ``engine`` → ``render`` → ``study`` → the edge
(``export``, ``export_cli``, ``cli``, ``__main__``). A module may import its own floor or a lower one, never a
higher one; imports inside functions count (they used to hide cycles); imports under ``if TYPE_CHECKING:`` don't,
since they never run. Nothing under ``explorer/`` imports Streamlit or the ``pages`` package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "explorer"

FLOORS = {
    "explorer.errors": 0, "explorer.units": 0,
    "explorer.model": 1, "explorer.engine": 2, "explorer.render": 3, "explorer.study": 4,
    "explorer.export": 5, "explorer.export_cli": 6, "explorer.day_cli": 6, "explorer.validate": 6, "explorer.cli": 7, "explorer.__main__": 8,
    "explorer": 9,  # the package's own __init__ names the public surface (lazily)
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor(module: str) -> int:
    best = None
    for prefix, level in FLOORS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, level)
    assert best is not None, f"{module} is on no floor: add it to FLOORS in tests/test_layers.py"
    return best[1]


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def imports_of(path: Path) -> list[tuple[str, int]]:
    """``(module, line)`` for every import the file can execute, absolute, including function-level ones."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = _type_checking_lines(tree)
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            for a in node.names:  # `from explorer.engine import queueing` imports a module too
                out.append((f"{mod}.{a.name}", node.lineno))
    return out


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def import_graph() -> nx.DiGraph:
    mods = project_modules()
    G = nx.DiGraph()
    G.add_nodes_from(mods)
    for name, path in mods.items():
        for target, line in imports_of(path):
            # a parent package runs first whatever is imported below it: not an edge of its own
            if target in mods and target != name and not name.startswith(target + "."):
                G.add_edge(name, target, line=line)
    return G


def test_every_module_is_on_a_floor():
    for name in project_modules():
        floor(name)


def test_import_graph_is_acyclic():
    G = import_graph()
    cycles = list(nx.simple_cycles(G))
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c + [c[0]]) for c in cycles[:5])


def test_imports_never_point_up():
    G = import_graph()
    up = [f"{u} (floor {floor(u)}) imports {v} (floor {floor(v)}) at line {d['line']}"
          for u, v, d in G.edges(data=True) if floor(v) > floor(u)]
    assert not up, "\n".join(up)


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_streamlit_or_pages(path):
    bad = [(m, line) for m, line in imports_of(path) if m.split(".")[0] in ("streamlit", "pages")]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: keep explorer/ free of the UI"


def test_the_checker_sees_function_level_imports_but_not_type_checking_ones(monkeypatch):
    """The checker itself: an import inside a function is an edge (that is how cycles used to hide);
    one under ``if TYPE_CHECKING:`` is not."""
    probe = PKG / "engine" / "report.py"
    code = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from explorer.render import diagram\n"
            "def f():\n    from explorer.study import present\n")
    real_read = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: code if self == probe else real_read(self, *a, **k))
    found = {m for m, _ in imports_of(probe)}
    assert "explorer.study.present" in found
    assert "explorer.render.diagram" not in found
    assert "explorer.study.present" in import_graph().successors("explorer.engine.report")
