"""The test suite's own layout: plain helpers come from tests/helpers.py, and conftest.py
is left to pytest. Imported as a module too, conftest would be loaded twice (as `conftest`
and `tests.conftest`), each copy with its own globals."""
import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def conftest_imports(source: str) -> list[int]:
    """Lines of `source` that import conftest, at any depth (inside functions too)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(name.split(".")[-1] == "conftest" for name in names):
            lines.append(node.lineno)
    return lines


def test_no_test_module_imports_conftest():
    found = {str(path.relative_to(TESTS)): lines for path in sorted(TESTS.rglob("*.py"))
             if (lines := conftest_imports(path.read_text()))}
    assert found == {}, "import plain helpers from tests.helpers, not from conftest"


def test_the_check_sees_every_way_of_importing_conftest():
    source = ("from tests.conftest import order_body\nimport conftest\nfrom tests import conftest\n"
              "def f():\n    from conftest import wait_for\n"
              "from tests.helpers import order_body\nimport tests.conftest_like\n")
    assert conftest_imports(source) == [1, 2, 3, 5]
