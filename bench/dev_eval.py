"""``make eval``: replay the real labelled dev set into a fresh database and score it.

The dev set (``../shared/eval/dev``) is 53 real, hand-labelled public-domain reports and
a scorer. This is a benchmark of *quality*, not a test: it prints the scorer's table (with
``--verbose`` every false positive and miss) and the replay's wall time, so every change to
extraction, grouping or change detection can be measured on real prose. The test suite pins
only a floor (``tests/test_dev_eval_floor.py``) so the score cannot silently regress.

Run it the way a user would: the installed ``claimwatch replay`` command, a fresh SQLite file
each time (a database that has already seen the feed raises almost nothing the second time).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "dev"
_TOTAL = re.compile(r"dev alerts F1=(?P<f1>[\d.]+) P=(?P<p>[\d.]+) R=(?P<r>[\d.]+)")
_ROW = re.compile(r"^\s+(?P<type>\w+)\s+tp=\s*\d+.*F1=(?P<f1>[\d.]+)\s*$", re.M)


@dataclass(frozen=True)
class Score:
    """The scorer's verdict on one replay."""

    f1: float
    precision: float
    recall: float
    by_type: dict[str, float]
    report: str
    replay_seconds: float


def claimwatch() -> str:
    """The ``claimwatch`` console script beside this interpreter (the project's venv)."""
    script = Path(sys.executable).with_name("claimwatch")
    return str(script) if script.exists() else "claimwatch"


def run(dev: Path = DEV, *, verbose: bool = False, explain: bool = False) -> Score:
    """Replay ``dev/feed.xml`` into a throwaway database and score the alert stream."""
    if not (dev / "feed.xml").is_file() or not (dev / "score.py").is_file():
        raise FileNotFoundError(f"no dev set at {dev} (expected feed.xml and score.py)")
    with tempfile.TemporaryDirectory(prefix="claimwatch-eval-") as tmp:
        alerts = Path(tmp) / "alerts.jsonl"
        cmd = [claimwatch(), "replay", str(dev / "feed.xml")]
        cmd += ["--db", f"sqlite:///{tmp}/dev.db", "--format", "jsonl"]
        started = time.perf_counter()
        with alerts.open("w", encoding="utf-8") as out:
            subprocess.run(cmd, stdout=out, check=True)
        seconds = time.perf_counter() - started
        if explain:
            _explain(dev, Path(tmp))
        score_cmd = [sys.executable, str(dev / "score.py"), str(alerts)]
        if verbose:
            score_cmd.append("--verbose")
        report = subprocess.run(score_cmd, capture_output=True, text=True, check=True).stdout
    total = _TOTAL.search(report)
    if total is None:
        raise RuntimeError(f"the scorer printed no total line:\n{report}")
    return Score(
        f1=float(total["f1"]),
        precision=float(total["p"]),
        recall=float(total["r"]),
        by_type={m["type"]: float(m["f1"]) for m in _ROW.finditer(report)},
        report=report,
        replay_seconds=seconds,
    )


def _explain(dev: Path, tmp: Path) -> None:
    """Print, per article, the story it joined or started and why (a second fresh replay)."""
    cmd = [claimwatch(), "replay", str(dev / "feed.xml"), "--db", f"sqlite:///{tmp}/explain.db"]
    subprocess.run([*cmd, "--explain"], stdout=sys.stdout, check=False)


def main() -> int:
    p = argparse.ArgumentParser(prog="make eval", description=__doc__.splitlines()[0])
    p.add_argument("--verbose", action="store_true", help="list every false positive and miss")
    p.add_argument("--explain", action="store_true", help="say why each article is in its story")
    p.add_argument("--dev", type=Path, default=DEV, help="the dev set folder")
    args = p.parse_args()
    try:
        score = run(args.dev, verbose=args.verbose, explain=args.explain)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(score.report.rstrip())
    print(f"replay of the dev set: {score.replay_seconds:.2f} s (target < 5 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
