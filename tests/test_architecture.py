"""The package's shape: stages import only the stages before them, with no cycle and no
hidden (function-level) import between the package's own modules.

Stages, in the order data flow through them (``docs/architecture.md``):

0. ``contract``, ``errors``, ``files``, ``cells``, ``workflow_config``: the shared
   vocabulary and utilities;
1. ``sources``: synthetic data, mapped extracts, local authority returns;
2. ``validation``: the contract checks of an input folder;
3. ``derive``: domains, FSM, outcomes, both cohorts -> the children table;
4. ``aggregates``: the index, the models, profile statistics (pure, writing nothing);
5. ``release``: disclosure control, the only writer of ``results/release/``;
6. ``studies``: simulation, recovery and coverage studies (no pipeline stage imports them);
7. ``steps``: the Snakemake glue of both workflows (the simulation workflow's steps run
   the studies);
8. ``cli``: the command line; nothing imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import child_mdh

PACKAGE = Path(child_mdh.__file__).resolve().parent
LAYERS = {
    "contract": 0,
    "errors": 0,
    "files": 0,
    "cells": 0,
    "workflow_config": 0,
    "sources": 1,
    "validation": 2,
    "derive": 3,
    "aggregates": 4,
    "release": 5,
    "steps": 7,
    "studies": 6,
    "cli": 8,
}
#: modules outside every stage: the package's version only
UNSTAGED = {"child_mdh"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported child_mdh module, line, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend(
                    (a.name, child.lineno, not in_function)
                    for a in child.names
                    if a.name.split(".")[0] == "child_mdh"
                )
            elif (
                isinstance(child, ast.ImportFrom)
                and child.level == 0
                and child.module
                and child.module.split(".")[0] == "child_mdh"
            ):
                for a in child.names:
                    name = f"{child.module}.{a.name}"
                    target = name if _is_module(name) else child.module
                    found.append((target, child.lineno, not in_function))
            visit(child, inside)

    visit(tree, False)
    return found


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


MODULES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {_module_name(p): _imports(p) for p in MODULES}


def test_every_module_belongs_to_a_stage():
    unknown = sorted(m for m in GRAPH if m not in UNSTAGED and _stage(m) not in LAYERS)
    assert not unknown, f"modules outside every stage (add them to a stage): {unknown}"


def test_no_module_imports_a_later_stage():
    wrong = []
    for module, imports in GRAPH.items():
        if module in UNSTAGED:
            continue
        here = LAYERS[_stage(module)]
        for target, line, _ in imports:
            if target in UNSTAGED:
                continue
            there = LAYERS[_stage(target)]
            if there > here:
                wrong.append(f"{module}:{line} imports {target}")
    assert not wrong, "imports against the flow of data:\n" + "\n".join(wrong)


def test_no_function_level_import_of_the_package():
    hidden = [
        f"{m}:{line} imports {t} inside a function"
        for m, imports in GRAPH.items()
        for t, line, top in imports
        if not top
    ]
    assert not hidden, "move these imports to the top of the module:\n" + "\n".join(hidden)


def test_no_import_cycle():
    edges = {m: {t for t, _, _ in imports if t in GRAPH and t != m} for m, imports in GRAPH.items()}
    # a package's __init__ re-exporting its own modules is not a cycle of the design
    for m in edges:
        edges[m] = {t for t in edges[m] if not m.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for m in sorted(edges):
        if m not in state:
            walk(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("stage", sorted(s for s in LAYERS if (PACKAGE / s).is_dir()))
def test_each_stage_package_says_what_it_holds(stage):
    doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text()))
    assert doc and len(doc) > 80, f"child_mdh/{stage}/__init__.py needs a docstring"
