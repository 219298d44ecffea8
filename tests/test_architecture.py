"""The house rules of ARCHITECTURE.md, checked on the code itself: imports point down, modules stay
small and say what they are for, settings are read in one place, and the documents name real paths."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "dashboard"
MAX_MODULE_LINES = 450
# Lower rank = lower floor. A module may import from its own room and from rooms of a lower rank.
RANKS = {
    "schema": 0,
    "settings": 0,
    "errors": 0,
    "data.validate": 1,
    "pipeline": 2,
    "data": 2,
    "figures": 3,
    "views": 4,
    "publish": 5,
    "web": 6,
    "serve": 7,
    "wsgi": 8,
}
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _room(module: str) -> str:
    """``dashboard.data.validate.tables`` -> ``data.validate``; ``dashboard.web.ids`` -> ``web``."""
    parts = module.split(".")[1:]
    if parts[:2] == ["data", "validate"]:
        return "data.validate"
    return parts[0] if parts else ""


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")


def _path_of(module: str) -> Path:
    return PROJECT_ROOT.joinpath(*module.split("."))


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dashboard"):
            for alias in node.names:  # ``from dashboard.data import validate`` imports a module
                sub = f"{node.module}.{alias.name}"
                is_module = (
                    _path_of(sub).with_suffix(".py").is_file() or (_path_of(sub) / "__init__.py").is_file()
                )
                found.append((node.lineno, sub if is_module else node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("dashboard")]
    return found


def test_imports_point_down_only() -> None:
    upward = []
    for path in MODULES:
        here = _room(_module_name(path))
        for line, target in _imports(path):
            there = _room(target)
            if there and here and there != here and RANKS.get(there, -1) > RANKS.get(here, -1):
                upward.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target}")
    assert upward == []


def test_the_pipeline_uses_only_the_vocabulary_errors_and_validators() -> None:
    allowed = ("dashboard.schema", "dashboard.errors", "dashboard.data.validate", "dashboard.pipeline")
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target}"
        for path in (PACKAGE / "pipeline").rglob("*.py")
        for line, target in _imports(path)
        if not target.startswith(allowed)
    ]
    assert wrong == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_is_small_and_says_what_it_is_for(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    docstring = ast.get_docstring(ast.parse(text))
    assert docstring and docstring.splitlines()[0].strip(), "start with a one-line docstring"


def test_only_settings_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(PROJECT_ROOT))
        for path in MODULES
        if path.name != "settings.py"
        and re.search(r"os\.environ|os\.getenv", path.read_text(encoding="utf-8"))
    ]
    assert readers == []


def test_few_modules_at_the_top_of_the_package() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "errors.py", "schema.py", "settings.py", "wsgi.py"]


@pytest.mark.parametrize("document", ["README.md", "ARCHITECTURE.md"])
def test_every_path_the_documents_name_exists(document: str) -> None:
    text = (PROJECT_ROOT / document).read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:dashboard|tests|geodata|benchmarks|scripts|assets)/[\w./-]*)`", text))
    assert named, "the document names no paths"
    missing = sorted(p for p in named if not (PROJECT_ROOT / p).exists())
    assert missing == []
