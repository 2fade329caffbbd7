"""Imports flow one way: text → records → nlp → extract → store → pipeline → report/export/cli."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "src" / "influence_atlas"
# Lower number = lower layer; a module may import only from its own layer or lower ones.
LAYERS = {
    "errors": 0, "text": 0, "records": 1, "nlp": 2, "ontology": 2, "extract": 3, "reconcile": 4, "coordination": 4, "store": 5,
    "corrections": 6, "pipeline": 6, "versions": 6, "ray_engine": 7, "export": 7, "interchange": 7, "evaluate": 7, "timeline": 8, "queries": 8, "technique_summary": 8, "demo": 8, "report": 8, "web": 8, "cli": 9, "__main__": 10, "__init__": 0,
}


def _layer(module: str) -> int:
    return LAYERS[module.split(".")[0]]


def test_imports_flow_one_way():
    bad = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).with_suffix("")
        own = rel.parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = list(rel.parts[: len(rel.parts) - node.level])
                target = ".".join(base + ([node.module] if node.module else []))
                if not target:
                    continue
                head = target.split(".")[0]
                if head in LAYERS and _layer(head) > _layer(own):
                    bad.append(f"{'/'.join(rel.parts)} imports {target}")
    assert not bad, bad


def test_the_web_reads_through_the_store_and_public_names():
    bad = []
    for path in (PKG / "web").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                bad += [f"{path.name} imports {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
            elif isinstance(node, ast.ImportFrom):
                if (node.module or "").split(".")[0] == "sqlalchemy" or (node.level >= 2 and "schema" in (node.module or "")):
                    bad.append(f"{path.name} imports {node.module}")
                if node.level >= 2:
                    bad += [f"{path.name} imports private {node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.endswith("__")]
            elif isinstance(node, ast.Attribute) and node.attr in ("engine", "raw_connection"):
                bad.append(f"{path.name} uses the store's {node.attr}")
    assert not bad, bad
