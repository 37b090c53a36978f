"""SQL has one home per app: its store modules (``*store.py``; core's is shop/core/db_store.py).

``make lint`` bans importing ``django.db.connection(s)`` and ``RawSQL`` elsewhere (ruff TID251,
pyproject.toml); what an import ban cannot see is checked here, on the code itself: a
``Manager.raw(...)`` or ``QuerySet.extra(...)`` call, or a ``.vendor`` test, outside a store.
"""

import ast
from pathlib import Path

SHOP = Path(__file__).resolve().parents[1]


def _is_store(path: Path) -> bool:
    return path.name.endswith("store.py")


def _application_modules() -> list[Path]:
    return [
        path
        for path in sorted(SHOP.rglob("*.py"))
        if "tests" not in path.parts and "migrations" not in path.parts and not _is_store(path)
    ]


def _findings(path: Path, root: Path = SHOP.parent) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"raw", "extra"}
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: .{node.func.attr}(...)")
        if isinstance(node, ast.Attribute) and node.attr == "vendor":
            found.append(f"{path.relative_to(root)}:{node.lineno}: .vendor")
    return found


def test_raw_sql_and_vendor_branches_live_in_store_modules_only() -> None:
    modules = _application_modules()
    assert len(modules) > 50  # the walk sees the application
    findings = [finding for path in modules for finding in _findings(path)]
    assert findings == [], "move these into the app's store module:\n" + "\n".join(findings)


def test_the_check_sees_what_it_bans(tmp_path: Path) -> None:
    module = tmp_path / "selectors.py"
    module.write_text(
        "def f(qs, connection):\n    return qs.raw('SELECT 1') if connection.vendor else qs.extra()\n"
    )
    assert sorted(f.split(": ")[1] for f in _findings(module, tmp_path)) == [
        ".extra(...)",
        ".raw(...)",
        ".vendor",
    ]
