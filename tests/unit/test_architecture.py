"""The layers of app/, checked from the source (contract-free: this is how the house is kept).

domain (rules, no Flask) ← infra (database, config, outbox queue, live) ← services (one
transaction each) ← entry points (webhooks, api, board, staff, auth, reports, jobs, cli,
the outbox sender). A module imports only its own layer or lower; nothing in app/ imports
devtools/; no import cycle anywhere; and only the lifecycle writes an order's state,
version or courier status."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

DOMAIN, INFRA, SERVICES, ENTRY = range(4)
# Modules below the entry points that do not live in a layer's folder.
INFRA_MODULES = {"app.extensions", "app.models", "app.outbox", "app.outbox.client", "app.outbox.retry_policy"}
ORDER_FIELDS = {"state", "version", "courier_status"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in APP.rglob("*.py")}


def layer(module: str) -> int:
    if module.startswith("app.domain"):
        return DOMAIN
    if module.startswith("app.infra") or module in INFRA_MODULES:
        return INFRA
    if module.startswith("app.services"):
        return SERVICES
    return ENTRY


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every app module `module` imports, at the top or inside a function."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {name for name in found if name.split(".")[0] in ("app", "devtools")}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) & set(known) | {i for i in imports(name, path, known)
                                                               if i.startswith("devtools")}
            for name, path in known.items()}


def test_no_module_imports_a_layer_above_its_own():
    upward = [f"{m} ({layer(m)}) imports {i} ({layer(i)})"
              for m, targets in graph().items() for i in targets
              if i.startswith("app") and layer(i) > layer(m) and m != "app"]  # app: the factory wires all
    assert upward == []


def test_nothing_in_app_imports_devtools():
    """The simulator, the demo and seed-history are for developers: production never loads them."""
    assert [f"{m} imports {i}" for m, targets in graph().items() for i in targets if i.startswith("devtools")] == []


def test_there_is_no_import_cycle():
    edges = graph()
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def order_field_writes(path: Path) -> list[str]:
    """Assignments to `.state`, `.version` or `.courier_status`, and `values(state=…)`-style
    bulk writes of them."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Attribute) and leaf.attr in ORDER_FIELDS and isinstance(leaf.ctx, ast.Store):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} sets .{leaf.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values":
            found += [f"{path.relative_to(ROOT)}:{node.lineno} writes {k.arg}" for k in node.keywords
                      if k.arg in ORDER_FIELDS]
    return found


def test_only_the_lifecycle_changes_an_orders_state_version_or_courier_status():
    writes = [w for path in APP.rglob("*.py") if path != APP / "domain" / "lifecycle.py"
              for w in order_field_writes(path)]
    assert writes == []


def test_the_lifecycle_is_plain_python():
    """No Flask, no database: it is tested alone, and every entry point goes through it."""
    assert {i for i in graph()["app.domain.lifecycle"]} == set()
    source = (APP / "domain" / "lifecycle.py").read_text()
    assert "flask" not in source and "sqlalchemy" not in source
