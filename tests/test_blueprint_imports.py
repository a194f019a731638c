"""No blueprint imports another: what they share lives in modules that are not
blueprints (the pipeline, the dialects, parsing, the headers) or in the engine."""
from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import blueprints

PACKAGE = Path(blueprints.__file__).parent


def sibling_imports(name: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found |= {node.module} if node.module else {a.name for a in node.names}
            elif node.module == "blueprints":
                found |= {a.name for a in node.names}
            elif (node.module or "").startswith("blueprints."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("blueprints.")}
    return found


def test_no_blueprint_imports_another():
    modules = [m.name for m in pkgutil.iter_modules([str(PACKAGE)])]
    with_bp = {m for m in modules if hasattr(importlib.import_module(f"blueprints.{m}"), "bp")}
    assert {"campaign_api", "rewards_api", "widget", "play", "dashboard"} <= with_bp
    offending = {m: sibling_imports(m) & with_bp for m in with_bp if sibling_imports(m) & with_bp}
    assert offending == {}
    for shared in set(modules) - with_bp:  # nor do the shared modules
        assert not sibling_imports(shared) & with_bp, shared
