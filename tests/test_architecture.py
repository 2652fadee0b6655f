"""The shape of the package: stages import only earlier stages, no frame caches, no leaks.

Read from the source with :mod:`ast` (every import, also one inside a function, so a
deferred import cannot hide a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "graphad"

#: The stages in data-flow order (DESIGN.md); a stage imports only earlier ones. ``datasets``
#: (loaders: ingest + graph only) sits before ``bench``, which runs methods over them.
STAGES = (
    "ingest",
    "graph",
    "transforms",
    "nn",
    "detectors",
    "rca",
    "eval",
    "datasets",
    "bench",
    "viz",
    "cli",
)
#: Shared modules at the top of the package, importable from every stage (``_persist``:
#: the package's own file format helpers, private to graphad but shared by its stages).
SHARED = ("exceptions", "utils", "_persist")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield path, parts, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _stage(parts: tuple[str, ...]) -> str | None:
    """The stage of a module path inside graphad (``None``: a shared top-level module)."""
    if not parts or parts[0] in SHARED or parts[0].startswith("__"):
        return None  # a shared module, the package itself or a dunder (``__version__``)
    return parts[0]


def _graphad_imports(tree: ast.AST):
    """``(line, target module parts, imported names)`` of every import of graphad."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "graphad" or node.module.startswith("graphad."):
                target = tuple(node.module.split(".")[1:])
                for alias in node.names:
                    if not target:  # from graphad import <submodule or name>
                        yield node.lineno, (alias.name,), []
                    else:
                        yield node.lineno, target, [alias.name]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("graphad."):
                    yield node.lineno, tuple(alias.name.split(".")[1:]), []


def test_every_stage_folder_is_listed():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(STAGES)


def test_stages_import_only_earlier_stages():
    """A strict order of stages: so the stage import graph has no cycle."""
    rank = {stage: i for i, stage in enumerate(STAGES)}
    wrong = []
    for path, parts, tree in _modules():
        own = _stage(parts)
        for line, target, _ in _graphad_imports(tree):
            other = _stage(target)
            if other is None or own is None or other == own:
                continue
            if other not in rank or rank[other] > rank[own]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({own}) imports {other}")
    assert not wrong, "\n".join(wrong)


def test_shared_modules_import_no_stage():
    wrong = []
    for path, parts, tree in _modules():
        if parts[0] not in SHARED:
            continue
        for line, target, _ in _graphad_imports(tree):
            if _stage(target) is not None:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {'.'.join(target)}")
    assert not wrong, "\n".join(wrong)


def test_no_private_names_imported_across_packages():
    wrong = []
    for path, parts, tree in _modules():
        own = _stage(parts) or parts[0]
        for line, target, names in _graphad_imports(tree):
            other = _stage(target) or (target[0] if target else "")
            if other == own or (target and target[0] in SHARED):
                continue
            private_module = any(p.startswith("_") and not p.startswith("__") for p in target)
            private_names = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private_module or private_names:
                what = ", ".join(private_names) or ".".join(target)
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {what}")
    assert not wrong, "\n".join(wrong)


def _cache_decorator(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in ("lru_cache", "cache")


def test_no_module_level_caches():
    """Nothing remembers data process-wide: no memoised module functions, no memo dicts.

    Objects may keep what they read (e.g. a dataset's own cache); a module may not.
    """
    wrong = []
    for path, _, tree in _modules():
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if any(_cache_decorator(d) for d in node.decorator_list):
                    wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")
            targets = []
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            for name in targets:
                if any(word in name.lower() for word in ("cache", "memo")):
                    value = node.value
                    mutable = isinstance(value, (ast.Dict, ast.List, ast.Set)) or (
                        isinstance(value, ast.Call)
                        and getattr(value.func, "id", getattr(value.func, "attr", ""))
                        in ("dict", "OrderedDict", "WeakValueDictionary", "WeakKeyDictionary")
                    )
                    if mutable:
                        wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert not wrong, "\n".join(wrong)
