"""The import graph of burntray has no cycle, imports inside functions included.

An import inside a function still ties two modules together: it only moves the failure from
import time to the first call, and it hides the knot from readers. ``if TYPE_CHECKING:``
imports are left out (they never run). The graph is read from the source with ``ast``, so the
test sees every module, also those no other test imports.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path

import burntray

PACKAGE_DIR = Path(burntray.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, list[str]]]:
    """Every import statement in ``tree`` as (module, names taken from it): ``import a.b`` is
    ``("a.b", [])``, ``from a import b, c`` is ``("a", ["b", "c"])``; relative imports resolved,
    ``if TYPE_CHECKING:`` blocks skipped, imports inside functions included."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _targets(imports: list[tuple[str, list[str]]], modules: Iterable[str]) -> set[str]:
    """The modules those imports depend on: ``from a import b`` names the module ``a.b`` when
    there is one, else ``a`` itself. A package's ``__init__`` that runs only because a module
    inside it is imported is not counted (every import of ``a.b`` runs ``a`` first: counting
    that would make every package one knot with its modules)."""
    known = set(modules)
    out: set[str] = set()
    for base, names in imports:
        if not names:
            out.add(base)
            continue
        for name in names:
            out.add(f"{base}.{name}" if f"{base}.{name}" in known else base)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = _targets(_imported(tree, name, path.name == "__init__.py"), modules)
        # "burntray" itself is only __version__; importing it is no edge worth a cycle
        graph[name] = {n for n in targets if n in modules and n not in (name, "burntray")}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as one
    concrete cycle path through it, so the message shows which imports to cut."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return [_cycle_path(graph, set(c)) for c in sorted(components)]


def _cycle_path(graph: dict[str, set[str]], members: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, found breadth-first."""
    start = min(members)
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if w not in previous:
                previous[w] = v
                queue.append(w)
    return sorted(members)


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import burntray.config\n"
        "if TYPE_CHECKING:\n"
        "    from burntray.paths import AppPaths\n"
        "def f():\n"
        "    from burntray.model import pricing, MISSING\n"
        "    from . import errors\n"
    )
    imports = _imported(ast.parse(source), "burntray.x", is_package=False)
    modules = ("burntray.config", "burntray.model", "burntray.model.pricing", "burntray.errors")
    assert _targets(imports, modules) == {
        "typing",
        "burntray.config",
        "burntray.model.pricing",
        "burntray.model",  # MISSING is no module: the package's __init__ is what it comes from
        "burntray.errors",  # the relative import, resolved
    }


def test_the_cycle_finder_reports_the_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, f"{len(cycles)} import cycle(s), imports inside functions included:\n" + (
        "\n".join(" -> ".join(c) for c in cycles)
    )


def test_no_package_name_hides_one_of_its_modules() -> None:
    """A package's ``__init__`` that defines a name its own submodule has (``cburn.discovery``
    the function and ``cburn/discovery.py``) loses it the moment the submodule is imported:
    Python sets the submodule as that attribute of the package."""
    clashes = []
    for init in sorted(PACKAGE_DIR.rglob("__init__.py")):
        here = init.parent
        modules = {p.stem for p in here.glob("*.py")} | {
            p.name for p in here.iterdir() if (p / "__init__.py").is_file()
        }
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                defined = [node.name]
            elif isinstance(node, ast.Assign):
                defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            clashes += [f"{_module_name(init)}.{n}" for n in defined if n in modules]
    assert not clashes, f"names that a submodule of the same name replaces: {clashes}"


# What ``burntray.io`` may import: the layers below it. Anything else would make the
# infrastructure depend on what uses it.
IO_MAY_IMPORT = ("burntray.io", "burntray.errors", "burntray.lazylog")
IO_MAY_IMPORT_MODULES = ("burntray.model.snapshot",)
# What the core may take from ``burntray.sources``: the protocol, the registry and building.
SOURCES_API = (
    "burntray.sources",
    "burntray.sources.base",
    "burntray.sources.build",
    "burntray.sources.registry",
    "burntray.sources.spec",
)


def _layer_breaches(
    graph: dict[str, set[str]], importer: str, allowed: Callable[[str], bool]
) -> list[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module == importer or module.startswith(importer + ".")
        for target in targets
        if not allowed(target)
    )


def test_io_imports_only_the_layers_below_it() -> None:
    def allowed(target: str) -> bool:
        return target in IO_MAY_IMPORT_MODULES or any(
            target == p or target.startswith(p + ".") for p in IO_MAY_IMPORT
        )

    assert _layer_breaches(import_graph(), "burntray.io", allowed) == []


def core_breaches(graph: dict[str, set[str]]) -> list[str]:
    """``module -> target`` for each import by a module outside ``burntray.sources`` of a module
    inside a source's package (``sources/<name>/``, ``all`` too) rather than the sources' API."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if not (module == "burntray.sources" or module.startswith("burntray.sources."))
        for target in targets
        if target.startswith("burntray.sources.") and target not in SOURCES_API
    )


def test_the_core_check_names_a_reach_into_a_source_package() -> None:
    graph = {
        "burntray.cli.status": {"burntray.sources.agent_logs.source", "burntray.sources.base"},
        "burntray.report.data": {"burntray.sources.all", "burntray.sources.registry"},
        "burntray.sources.all": {"burntray.sources.spec", "burntray.sources.hexai"},
        "burntray.ui.menu": {"burntray.sources", "burntray.sources.build"},
    }
    assert core_breaches(graph) == [
        "burntray.cli.status -> burntray.sources.agent_logs.source",
        "burntray.report.data -> burntray.sources.all",
    ]


def test_the_core_takes_no_module_from_inside_a_source() -> None:
    """Every module outside ``sources/`` (cli, report, serve, runtime, ui, store, model, config,
    the app) uses sources through the protocols, the registry and ``build`` only: what a source
    can do is a capability it is asked for (serve took its HTTP server from the OTLP receiver's
    module once; ``status`` its block's JSON from the agent logs' package)."""
    assert core_breaches(import_graph()) == []


# --- private names stay in their module ------------------------------------------------------


def underscored_imports(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, module, name) for each ``from burntray... import _name`` in ``tree`` (inside
    functions and ``if TYPE_CHECKING:`` too; ``__dunder__`` names and a public name imported
    under an underscored alias are fine)."""
    return [
        (node.lineno, "." * node.level + (node.module or ""), alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and (node.level or (node.module or "").split(".")[0] == "burntray")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.endswith("__")
    ]


def test_the_underscore_check_sees_every_kind_of_import() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING, _SpecialForm\n"
        "from burntray.io.watch import _load_libc, load_libc\n"
        "from burntray import __version__\n"
        "from burntray.cli.parser import command_in as _command_in\n"
        "if TYPE_CHECKING:\n"
        "    from burntray.io.http_server import _Conn\n"
        "def f():\n"
        "    from .mapping import _text\n"
    )
    assert underscored_imports(tree) == [
        (2, "burntray.io.watch", "_load_libc"),
        (6, "burntray.io.http_server", "_Conn"),
        (8, ".mapping", "_text"),
    ]


def test_no_module_imports_an_underscored_name_from_another() -> None:
    """A leading underscore says "only this module uses it": a helper that split sibling
    modules share gets a public name in the module that owns it (or moves), so a reader can
    trust the underscore."""
    found = [
        f"{name}:{line}: from {module} import {imported}"
        for name, path in _modules().items()
        for line, module, imported in underscored_imports(
            ast.parse(path.read_text(encoding="utf-8"), str(path))
        )
    ]
    assert not found, "underscored names imported from another module:\n" + "\n".join(found)


# --- the core names no source -------------------------------------------------------------

# Names of the upstreams and sources burntray reads: a code name carrying one belongs in that
# source's folder (``sources/<name>/``), never in the core. Labels shown to users may still
# name a tool: they are strings, which this guard does not read.
SOURCE_WORDS = ("hexai", "cburn", "claude", "codex", "roder", "ctm", "yoi", "otel", "gemini")
# Left out of this guard, each for a reason:
NOT_CORE = (
    "sources",  # where source names belong
    "cli",  # the cli/ package (and cli.py until it is split) has a guard of its own
    "cli.py",
)


def _words() -> tuple[str, ...]:
    from burntray.sources.registry import REGISTRY

    return tuple(sorted({*SOURCE_WORDS, *(n.lower() for n in REGISTRY.names())}))


def _identifiers(tree: ast.AST) -> Iterable[tuple[int, str]]:
    """Every code name in ``tree`` with its line: modules imported (and their aliases),
    classes, functions, arguments, attributes, variables and keyword arguments."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        names: list[str | None] = []
        if isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.arg):
            names = [node.arg]
        elif isinstance(node, ast.alias):
            names = [node.name, node.asname]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module]
        elif isinstance(node, ast.keyword):
            names = [node.arg]
        elif isinstance(node, ast.Global | ast.Nonlocal):
            names = list(node.names)
        elif isinstance(node, ast.ExceptHandler):
            names = [node.name]
        yield from ((line, n) for n in names if n)


def source_names_in(tree: ast.AST, words: Iterable[str]) -> list[tuple[int, str]]:
    lowered = tuple(w.lower() for w in words)
    return [(line, n) for line, n in _identifiers(tree) if any(w in n.lower() for w in lowered)]


def _is_core(relative: str) -> bool:
    return not any(relative == x or relative.startswith(x + "/") for x in NOT_CORE)


def test_the_source_name_finder_sees_every_kind_of_name() -> None:
    tree = ast.parse(
        "import burntray.sources.hexai.writer as w\n"
        "from burntray.sources.cburn import period\n"
        "class ClaudeThing:\n"
        "    def read_codex(self, roder_db, *, ctm=1):\n"
        "        self.yoi_dir = roder_db\n"
        "        otel_port = f(gemini_cli=2)\n"
        "        label = 'hexai cache'\n"  # a string shown to users: not a code name
    )
    found = {n for _, n in source_names_in(tree, SOURCE_WORDS)}
    assert found == {
        "burntray.sources.hexai.writer",
        "burntray.sources.cburn",
        "ClaudeThing",
        "read_codex",
        "roder_db",
        "ctm",
        "yoi_dir",
        "otel_port",
        "gemini_cli",
    }
    assert source_names_in(ast.parse("label = 'claude'\nwindow_ns = 1\n"), SOURCE_WORDS) == []


def test_no_code_name_outside_sources_carries_a_sources_name() -> None:
    """The core (config, model, runtime, ui, serve, report, io, ...) asks the registry and the
    capability protocols; a source's name in a code name there means a source's rule leaked
    out of its folder."""
    words = _words()
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if not _is_core(relative):
            continue
        if any(w in relative.lower() for w in words):
            found.append(f"{relative}: the module's own name")
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += [f"{relative}:{line}: {name}" for line, name in source_names_in(tree, words)]
    assert not found, f"{len(found)} code name(s) carrying a source's name:\n" + "\n".join(found)


# --- burntray's SQLite and the report name no source --------------------------------------

STORE_AND_REPORT = ("store", "report")


def test_store_and_report_carry_no_sources_name() -> None:
    """store/ keeps only burntray's own tables (a source declares its tables, with their
    migrations, in its spec's ``history_tables``) and report/ asks a source's spec for its chart
    series: no module, class, function, attribute, variable or table-name constant there may
    carry a source's name (its tables and queries live in ``sources/<name>/``)."""
    words = _words()
    found = []
    for folder in STORE_AND_REPORT:
        for path in sorted((PACKAGE_DIR / folder).rglob("*.py")):
            relative = path.relative_to(PACKAGE_DIR).as_posix()
            if any(w in relative.lower() for w in words):
                found.append(f"{relative}: the module's own name")
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            found += [f"{relative}:{line}: {name}" for line, name in source_names_in(tree, words)]
    assert not found, f"{len(found)} code name(s) carrying a source's name:\n" + "\n".join(found)


# --- module size ------------------------------------------------------------------------------
MAX_MODULE_LINES = 400
# Modules over the limit that each do one job, so splitting them would only scatter it (each
# says so in its docstring). A module that grows past the limit doing two jobs is split along
# the seam instead of being added here.
LONG_ONE_JOB_MODULES = frozenset(
    {
        # the one stats.json parser: header, every section, every field's validation
        "burntray.sources.hexai.parse",
        # the incremental re-reader of stats.json: offsets, appended-bytes checks, rebuilds
        "burntray.sources.hexai.delta",
        # the cburn daemon client: one class following one daemon (status, events, stream)
        "burntray.sources.cburn.source",
        # the StatusNotifierItem icon: one class, the pystray Icon over D-Bus
        "burntray.ui.sni.icon",
    }
)


def modules_over(modules: dict[str, Path], limit: int, allowed: frozenset[str]) -> list[str]:
    """``module (N lines)`` for each module over ``limit`` lines that is not ``allowed``."""
    found = []
    for name, path in sorted(modules.items()):
        count = len(path.read_text(encoding="utf-8").splitlines())
        if count > limit and name not in allowed:
            found.append(f"{name} ({count} lines)")
    return found


def test_the_size_check_names_a_long_module_unless_allowed(tmp_path: Path) -> None:
    short, long = tmp_path / "short.py", tmp_path / "long.py"
    short.write_text("x = 1\n" * 400, encoding="utf-8")
    long.write_text("x = 1\n" * 401, encoding="utf-8")
    modules = {"pkg.short": short, "pkg.long": long}
    assert modules_over(modules, 400, frozenset()) == ["pkg.long (401 lines)"]
    assert modules_over(modules, 400, frozenset({"pkg.long"})) == []


def test_no_module_over_400_lines_does_more_than_one_job() -> None:
    """A long module is split into modules named for their jobs; only the listed one-job
    modules may stay long."""
    modules = _modules()
    assert modules_over(modules, MAX_MODULE_LINES, LONG_ONE_JOB_MODULES) == []


def test_every_long_module_allowed_is_still_there_and_long() -> None:
    """An entry for a module that was split, renamed or shortened goes: the list stays exact."""
    modules = _modules()
    stale = sorted(
        name
        for name in LONG_ONE_JOB_MODULES
        if name not in modules
        or len(modules[name].read_text(encoding="utf-8").splitlines()) <= MAX_MODULE_LINES
    )
    assert stale == []
