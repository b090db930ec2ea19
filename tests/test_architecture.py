"""The ports: ``adapters/`` and ``storage/`` implement the core's protocols exactly.

The import boundary itself (the core never imports a chat, HTTP or database library, nor
``adapters``/``storage``, except in the composition root ``bot/bootstrap.py``) is checked by
import-linter's contracts in ``pyproject.toml``, run by ``make lint``.
"""

from __future__ import annotations

import inspect


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
