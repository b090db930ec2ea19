"""The import boundary: the core defines ports and never reaches for I/O libraries.

``bot/`` may not import a chat library, SQLAlchemy, a database driver, an HTTP
client, or our own ``adapters``/``storage`` packages — except in the one
composition root, ``bot/bootstrap.py``. ``adapters/`` and ``storage/`` implement
the core's ports.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {
    "discord",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "httpx",
    "requests",
    "urllib3",
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "psycopg",
    "psycopg2",
    "adapters",
    "storage",
}
COMPOSITION_ROOTS = {ROOT / "bot" / "bootstrap.py"}


def imported_top_level(path: Path) -> set[str]:
    """Every top-level module a file imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def core_files() -> list[Path]:
    return sorted(p for p in (ROOT / "bot").rglob("*.py") if p not in COMPOSITION_ROOTS)


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("import os\nfrom sqlalchemy import x\n\ndef f():\n    import discord.ext\n")
    assert imported_top_level(sample) == {"os", "sqlalchemy", "discord"}


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_io_library(path: Path) -> None:
    bad = imported_top_level(path) & FORBIDDEN_IN_CORE
    assert not bad, (
        f"{path.relative_to(ROOT)} imports {sorted(bad)}; go through a port in bot/ports.py"
    )


def test_core_never_imports_an_adapter_at_runtime() -> None:
    # Only the composition root may; make sure it is the only one that does.
    offenders = [
        p.relative_to(ROOT) for p in core_files() if imported_top_level(p) & {"adapters", "storage"}
    ]
    assert offenders == []


def _protocol_methods(proto: type) -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(proto, predicate=inspect.isfunction)
        if not name.startswith("_") or name in {"__aenter__", "__aexit__"}
    }


def test_storage_and_adapters_implement_the_ports() -> None:
    from adapters.console import ConsoleSink
    from bot import ports
    from storage import repositories, uow

    pairs = [
        (ports.UnitOfWork, uow.SqlUnitOfWork),
        (ports.ArticleRepository, repositories.SqlArticleRepository),
        (ports.StoryRepository, repositories.SqlStoryRepository),
        (ports.AlertRepository, repositories.SqlAlertRepository),
        (ports.AlertSink, ConsoleSink),
    ]
    for proto, impl in pairs:
        missing = {m for m in _protocol_methods(proto) if not callable(getattr(impl, m, None))}
        assert not missing, f"{impl.__name__} lacks {sorted(missing)} of {proto.__name__}"
        for name in _protocol_methods(proto):
            want = list(inspect.signature(getattr(proto, name)).parameters)
            got = list(inspect.signature(getattr(impl, name)).parameters)
            assert got == want, f"{impl.__name__}.{name}{got} != {proto.__name__}.{name}{want}"
