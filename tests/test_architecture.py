"""The package's one-way import rule, checked by parsing every module's imports (lazy ones included).

Layers, lowest first: ``errors``, ``version`` and ``plots`` (import no other memdyn module) < ``core`` (the
pipeline: formula -> symbolic -> lowering -> integrate/sweep) < ``theory`` and ``rnn`` (studies of
the flow and of discrete RNNs, built on core) < ``studies`` (the paper's problems, reproduce, bench,
references) < ``api`` (the Python face) < ``cli``. Nothing imports ``cli``; there are no cycles;
no module takes another's ``_private`` name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "memdyn"

ALLOWED = {
    "errors": set(),
    "version": set(),
    "plots": set(),
    "core": {"errors", "version", "plots", "core"},
    "theory": {"errors", "version", "plots", "core", "theory"},
    "rnn": {"errors", "version", "plots", "core", "rnn"},
    "studies": {"errors", "version", "plots", "core", "theory", "rnn", "studies"},
    "api": {"errors", "version", "plots", "core", "theory", "rnn", "studies", "api"},
    "cli": {"errors", "version", "plots", "core", "theory", "rnn", "studies", "api", "cli"},
    "__init__": {"errors", "version", "core", "theory", "rnn", "api"},
    "__main__": {"cli"},  # python -m memdyn: the command line and nothing else
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import in the file, anywhere in it."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names if alias.name.startswith("memdyn")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("memdyn"):
                continue
            names = [alias.name for alias in node.names]
            # "from . import x" imports the module memdyn.x when it is one
            modules = _modules()
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            found += [(s, [], node.lineno) for s in subs]
            rest = [n for n in names if f"{module}.{n}" not in modules]
            if rest or not subs:
                found.append((module, rest, node.lineno))
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


MODULES = _modules()
EDGES = {name: _imports(name, path) for name, path in MODULES.items()}


def test_every_module_has_a_layer():
    assert set(map(_layer, MODULES)) <= set(ALLOWED), sorted(set(map(_layer, MODULES)) - set(ALLOWED))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_one_way(name):
    allowed = ALLOWED[_layer(name)]
    bad = [(target, line) for target, _, line in EDGES[name] if _layer(target) not in allowed and target != name]
    assert not bad, f"{name} imports against the layering: {bad}"


def test_nothing_imports_the_cli():  # but ``python -m memdyn``
    users = [
        (name, line)
        for name, edges in EDGES.items()
        for target, _, line in edges
        if target.startswith("memdyn.cli") and not name.startswith("memdyn.cli") and name != "memdyn.__main__"
    ]
    assert not users  # python -m memdyn (memdyn/__main__.py) runs it, as the memdyn script does


def test_no_private_names_cross_modules():
    bad = [
        (name, target, n, line)
        for name, edges in EDGES.items()
        for target, names, line in edges
        for n in names
        if n.startswith("_") and n != "__version__"
    ]
    assert not bad, bad


def test_no_import_cycles():
    # Module-level edges between modules (a package's __init__ counts as the package).
    graph = {name: {t for t, _, _ in edges if t in MODULES and t != name} for name, edges in EDGES.items()}
    # memdyn/__init__ re-exports the front door: importing memdyn.x runs it first by Python's rules,
    # which is not an edge of the design, so edges *into* the top package are dropped.
    graph = {k: {t for t in v if t != "memdyn"} for k, v in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt) :] + [nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_checker_sees_lazy_imports():
    """The rule would be hollow if imports inside functions were missed: the CLI imports lazily."""
    lazy = [t for t, _, line in EDGES["memdyn.cli.flows"]]
    assert any(t == "memdyn.api" for t in lazy)
