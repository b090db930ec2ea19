"""``python -m bench``: run every benchmark and print its figures."""

from __future__ import annotations

import argparse
import json
import platform
import sys

from bench import extraction, replay


def main() -> int:
    p = argparse.ArgumentParser(prog="bench")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    scale = 0.2 if args.quick else 1.0
    results = {
        "python": platform.python_version(),
        "extraction": extraction.run(int(1000 * scale)),
        "replay_sqlite": replay.run(int(500 * scale)),
    }
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
        return 0
    ex, rp = results["extraction"], results["replay_sqlite"]
    assert isinstance(ex, dict) and isinstance(rp, dict)
    print(
        f"extraction    {ex['articles_per_s']:8.0f} articles/s  ({ex['kib_per_s']:.0f} KiB/s, "
        f"{ex['figures_per_article']:.1f} figures/article, one core)   target ≥ 500"
    )
    print(
        f"replay→SQLite {rp['articles_per_s']:8.0f} articles/s  ({rp['alerts']} alerts for "
        f"{rp['articles']} articles); second replay "
        f"{rp['second_replay_articles_per_s']:.0f} articles/s "
        f"(ratio {rp['second_replay_articles_per_s'] / rp['articles_per_s']:.1f}×)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
