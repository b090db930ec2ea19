"""A malformed webhook URL stops ``claimwatch run`` at start: one clear line, exit 2.

Before, ``http://hooks.example:99999/x`` passed the start-up check (it starts with
``http://``) and then every delivery failed with a traceback. The webhook URL is a
secret (its path is the token), so the error names the setting and the reason only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings, chat_problems

TOKEN = "T0KEN-9f8e7d"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"https://hooks.example:99999/services/{TOKEN}", "Port out of range"),
        (f"https://hooks.example:0/services/{TOKEN}", "port 0"),
        (f"https:///services/{TOKEN}", "no host"),
        (f"ftp://hooks.example/services/{TOKEN}", "not http or https"),
        (f"hooks.example/services/{TOKEN}", "not http or https"),
        (f"https://hooks.example/services/{TOKEN} x", "whitespace"),
        (f"https://user:{TOKEN}@hooks.example/services", "userinfo"),
        (f"https://[::1/services/{TOKEN}", "malformed URL"),
    ],
)
def test_a_malformed_webhook_url_is_one_problem_without_the_secret(url: str, reason: str) -> None:
    for key in ("discord_webhook_url", "slack_webhook_url"):
        (problem,) = chat_problems(Settings(**{key: url}))  # type: ignore[arg-type]
        assert problem.startswith(f"CLAIMWATCH_{key.upper()} is not a usable http(s) URL")
        assert reason in problem and TOKEN not in problem


def test_a_good_webhook_url_is_no_problem() -> None:
    settings = Settings(slack_webhook_url="https://hooks.slack.example/services/T/B/x")  # type: ignore[arg-type]
    assert chat_problems(settings) == []


def test_run_exits_2_with_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLAIMWATCH_DISCORD_WEBHOOK_URL", f"http://127.0.0.1:99999/api/{TOKEN}")
    db = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    assert main(["run", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and TOKEN not in err
    first, *rest = [line.strip() for line in err.splitlines() if line.strip()]
    assert first.startswith("error: cannot start")
    assert " ".join(rest) == (  # one problem (the console may wrap it)
        "- CLAIMWATCH_DISCORD_WEBHOOK_URL is not a usable http(s) URL: "
        "malformed URL: Port out of range 0-65535"
    )
    assert not (tmp_path / "run.db").exists()  # refused before anything was built
