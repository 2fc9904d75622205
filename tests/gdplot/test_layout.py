"""The package's shape stays as the house rules want it: no import cycles between gdplot's
modules (imports under ``if TYPE_CHECKING:`` do not count) and no module over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import gdplot

PACKAGE = Path(gdplot.__file__).resolve().parent
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(tree: ast.AST, package: str) -> set[str]:
    """The gdplot modules ``tree`` imports when it runs (anywhere, functions included)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:  # ``from gdplot.plots import surface`` imports a module
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in MODULES}


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = runtime_imports(ast.parse(path.read_text(encoding="utf-8")), package)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module, or of one importing itself
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert sorted(cycles(graph)) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_the_packages_imports():
    graph = import_graph()
    assert {"gdplot.models", "gdplot.plots.live_plot", "gdplot.cli.train"} <= set(graph)
    assert "gdplot.plots.live_plot" in graph["gdplot.plots.curves"]
    # A TYPE_CHECKING-only import is not a runtime edge: png annotates with LivePlot.
    assert "gdplot.plots.live_plot" not in graph["gdplot.plots.png"]


def test_gdplot_has_no_import_cycles():
    assert cycles(import_graph()) == []


def test_no_gdplot_module_is_over_500_lines():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert too_long == {}


def test_every_gdplot_import_names_something_that_exists():
    # Imports inside functions run late; a name left behind by a move would fail only there.
    import importlib

    missing = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                missing += [alias.name for alias in node.names
                            if alias.name.startswith("gdplot") and alias.name not in MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gdplot"):
                module = importlib.import_module(node.module)
                missing += [
                    f"{node.module}.{alias.name} (in {name})" for alias in node.names
                    if f"{node.module}.{alias.name}" not in MODULES
                    and not hasattr(module, alias.name)
                ]
    assert missing == []
