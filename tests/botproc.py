"""``claimwatch run`` as a real subprocess, for the chat acceptance tests.

Its output goes to a log file (a pipe nobody reads would block it); the tests
read the log when something fails and check it for tracebacks and secrets.
Proxy variables are stripped: slack-sdk would send loopback traffic through them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


class BotProcess:
    def __init__(self, tmp: Path, env: Mapping[str, str], name: str = "bot") -> None:
        self.env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
        self.env.update(
            {
                "CLAIMWATCH_DB_URL": f"sqlite+aiosqlite:///{tmp / 'chat.db'}",
                "CLAIMWATCH_LOG_LEVEL": "INFO",
                "CLAIMWATCH_DELIVERY_TICK_S": "0.1",
                "CLAIMWATCH_DELIVERY_RETRY_MAX_S": "3",
                "CLAIMWATCH_DELIVERY_LEASE_S": "8",
                "CLAIMWATCH_POLL_TICK_S": "0.2",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env.update(env)
        self.log = tmp / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self, *args: str) -> BotProcess:
        self.runs += 1
        cmd = [sys.executable, "-m", "bot.cli", "run", *args]
        with self.log.open("ab") as out:
            out.write(f"\n===== run {self.runs} =====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=out, stderr=out)
        return self

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_for(self, check: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if not self.alive():
                raise AssertionError(f"the bot exited while waiting for {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.output()[-4000:]}")
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM and wait: the clean shutdown."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (a crash, a power cut)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
