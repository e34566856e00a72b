"""The domain's import graph, read from the source: every module of `models/` imports the others
at its top only (no import of our own modules inside a function, which would hide a cycle), and
no module imports, directly or through others, one that imports it back. Imports under
`if TYPE_CHECKING:` count like the others: a cycle for the type checker is a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parent.parent / "models"
PACKAGE = "models"


def _module_name(path: Path) -> str:
    parts = path.relative_to(MODELS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    """Every module of the package (migrations included), by dotted name."""
    return {_module_name(path): path for path in sorted(MODELS.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The modules of the package an import statement reaches: `from models import jury` reaches
    `models.jury`, `from models.jury import ranking` reaches `models.jury`."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    if node.level or node.module is None:
        raise AssertionError("relative imports are not used in models/")  # none today: keep it simple
    found = {f"{node.module}.{alias.name}" for alias in node.names} & known
    if node.module in known and node.module != PACKAGE:
        found.add(node.module)
    return found


def _own(node: ast.AST) -> bool:
    return (isinstance(node, ast.Import) and any(a.name.split(".")[0] == PACKAGE for a in node.names)) or (
        isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == PACKAGE)


def read_graph(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Each module's imports of the package (top level, `if TYPE_CHECKING:` blocks and functions
    alike), and where a module imports one of ours inside a function or class (« module:line »)."""
    known = set(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    local: list[str] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        nested = {id(node) for scope in ast.walk(tree)
                  if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
                  for node in ast.walk(scope) if node is not scope}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or not _own(node):
                continue
            graph[name] |= _targets(node, known) - {name}
            if id(node) in nested:
                local.append(f"{name}:{node.lineno}")
    return graph, local


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_models_import_our_modules_at_the_top_only() -> None:
    _, local = read_graph(_modules())
    assert not local, f"imports of our own modules inside a function or class in models/: {', '.join(local)}"


def test_models_have_no_import_cycle() -> None:
    graph, _ = read_graph(_modules())
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in models/: " + " -> ".join(cycle or [])


LOW = ("models.recipients", "models.links")
ABOVE = ("models.applications", "models.jury", "models.deliverables", "models.training", "models.charter",
         "models.kickoff", "models.withdrawal", "models.accompaniment", "models.call", "models.intents",
         "models.decision", "models.schedule")


@pytest.mark.parametrize("low", LOW)
def test_recipients_and_links_depend_on_no_concept_module_above_them(low: str) -> None:
    graph, _ = read_graph(_modules())
    reached: set[str] = set()
    todo = [low]
    while todo:
        for target in graph[todo.pop()] - reached:
            reached.add(target)
            todo.append(target)
    assert not reached & set(ABOVE), f"{low} reaches {sorted(reached & set(ABOVE))}"


def test_the_graph_reader_sees_local_imports_and_cycles(tmp_path: Path) -> None:
    """The checks above can fail: a function-local import is reported, a cycle is named."""
    (tmp_path / "a.py").write_text("from models.b import x\n\n\ndef f():\n    from models import c\n")
    (tmp_path / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from models.c import y\n")
    (tmp_path / "c.py").write_text("import models.a\n")
    modules = {f"models.{p.stem}": p for p in sorted(tmp_path.glob("*.py"))}
    graph, local = read_graph(modules)
    assert local == ["models.a:5"]
    assert graph == {"models.a": {"models.b", "models.c"}, "models.b": {"models.c"}, "models.c": {"models.a"}}
    assert find_cycle(graph) == ["models.a", "models.b", "models.c", "models.a"]
    assert find_cycle({"models.a": {"models.b"}, "models.b": set()}) is None


# --- The portal: thin routers ------------------------------------------------------------------------

PORTAL = MODELS.parent / "transitions" / "portal"
MODULE_LINES, HANDLER_LINES = 250, 25
"""Issue 20's bounds: no module of the portal over 250 lines, no request handler over 25."""


def handlers(path: Path) -> dict[str, int]:
    """The request handlers of a router module (functions decorated by `<router>.get/post/…`), with
    their length in lines (decorators excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr in ("get", "post", "put", "patch", "delete", "api_route")
                for d in node.decorator_list):
            found[node.name] = (node.end_lineno or node.lineno) - node.lineno + 1
    return found


def test_the_portal_is_small_modules_of_short_handlers() -> None:
    modules = sorted(PORTAL.rglob("*.py"))
    long_modules = {str(p.relative_to(PORTAL)): n for p in modules
                    if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert not long_modules, f"modules of the portal over {MODULE_LINES} lines: {long_modules}"
    every = {f"{p.stem}.{name}": n for p in modules for name, n in handlers(p).items()}
    assert len(every) >= 19, sorted(every)  # every page and act of the portal is a handler found here
    long_handlers = {name: n for name, n in every.items() if n > HANDLER_LINES}
    assert not long_handlers, f"handlers over {HANDLER_LINES} lines: {long_handlers}"


def test_the_portal_handlers_that_touch_the_database_are_plain_functions() -> None:
    """A plain `def` runs in FastAPI's thread pool: an act waiting on a lock holds up no other page.
    Only the handlers that parse a posted body are `async` (they hand the work to the pool), the
    health check, which hands its read to a thread of its own (`anyio.to_thread.run_sync`: a probe
    answered while the pool's threads are all busy), and the territory's page, which hands its
    whole work to the pool in one trip (`deps.PilotPage.render`)."""
    handing = {"public.health": "run_sync", "territory.territory": "render"}
    asynchronous = []
    for path in sorted((PORTAL / "routers").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = f"{path.stem}.{node.name}" if isinstance(node, ast.AsyncFunctionDef) else ""
            if name and node.name in handlers(path) and not (
                    name in handing and _hands_to_a_thread(node, handing[name])):  # type: ignore[arg-type]
                asynchronous.append(name)
    assert asynchronous == [], asynchronous


def _hands_to_a_thread(node: ast.AsyncFunctionDef, method: str) -> bool:
    """The handler awaits `….method(…)` (`to_thread.run_sync`, `PilotPage.render`: its blocking work
    on a worker thread)."""
    return any(isinstance(n, ast.Await) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute)
               and n.value.func.attr == method for n in ast.walk(node))


# --- The README's module map -------------------------------------------------------------------------

ROOT = MODELS.parent
MAPPED = ("models/", "flows/", "notifications/", "reports/", "documents/", "config/", "transitions/", "bench/")


def module_map() -> dict[str, str]:
    """The README's module map: each top-level folder's row, by folder."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([a-z_]+/)` \| (.*) \|$", text, flags=re.MULTILINE))


@pytest.mark.parametrize("folder", MAPPED)
def test_the_module_map_names_every_module_of_the_tree_and_no_other(folder: str) -> None:
    row = module_map().get(folder)
    assert row is not None, f"the README's module map has no row for {folder}"
    named = {name.rsplit("/", 1)[-1] for name in re.findall(r"`([A-Za-z_/.]+\.py)`", row)
             if not name.startswith("tests/")}
    files = {p.name for p in (ROOT / folder).rglob("*.py")
             if p.name != "__init__.py" and "versions" not in p.parts and "__pycache__" not in p.parts}
    assert sorted(files - named) == [], f"modules of {folder} the README does not name"
    assert sorted(named - files) == [], f"modules the README names in {folder} that do not exist"
