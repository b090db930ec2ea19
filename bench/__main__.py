"""``python -m bench``: run every benchmark and print its figures."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from typing import Any

from bench import chat, dropfolder, extraction, feeds, memory, replay

TARGET_FEEDS = 10_000
TARGET_SECONDS = 60.0
"""The issue's target: 10,000 feeds polled in under a minute."""


def print_chat(result: object) -> None:
    assert isinstance(result, dict)
    for platform_name, r in result.items():
        print(
            f"{platform_name:<8} slash ack p50 {r['ack_p50_ms']:.0f} ms, p99 {r['ack_p99_ms']:.0f} "
            f"ms with {r['commands']} in flight (limit 3000 ms); delivery "
            f"{r['alerts_per_s']:.1f} alerts/s for one story's {r['alerts']} alerts in order, "
            f"through {r['rate_limited']} rate-limit answers"
        )


def main() -> int:
    p = argparse.ArgumentParser(prog="bench")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    scale = 0.2 if args.quick else 1.0
    tally = feeds.LogTally.install()
    results: dict[str, object] = {
        "python": platform.python_version(),
        "extraction": extraction.run(int(1000 * scale)),
        "extraction_dev": extraction.dev_throughput(),
        "extraction_hostile": extraction.hostile(),
        "replay_sqlite": replay.run(int(500 * scale)),
        "feed_polling": (
            feeds.run(300, cold=50, naive=100) if args.quick else feeds.run(2000, cold=100)
        ),
        "dropfolder": (
            dropfolder.run(40, background=40) if args.quick else dropfolder.run(200, background=200)
        ),
        "memory": memory.run(2000 if args.quick else 10_000),
        "chat": chat.run(20 if args.quick else 100),
    }
    results["log"] = tally.summary()
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
    dev, hostile = results["extraction_dev"], results["extraction_hostile"]
    assert dev is None or isinstance(dev, dict)
    assert isinstance(hostile, dict)
    extraction.print_dev(dev)
    print("hostile text  (best of 3)")
    extraction.print_hostile(hostile)
    print(
        f"replay→SQLite {rp['articles_per_s']:8.0f} articles/s  ({rp['alerts']} alerts for "
        f"{rp['articles']} articles); second replay "
        f"{rp['second_replay_articles_per_s']:.0f} articles/s "
        f"(ratio {rp['second_replay_articles_per_s'] / rp['articles_per_s']:.1f}×)"
    )
    fp, dr, mem = results["feed_polling"], results["dropfolder"], results["memory"]
    assert isinstance(fp, dict) and isinstance(dr, dict) and isinstance(mem, dict)
    print_feed_polling(fp)
    print_dropfolder(dr)
    print_memory(mem)
    print_chat(results["chat"])
    print_log("log (memory)", mem["log"])
    print_log("log (others)", results["log"])
    return 0


def print_log(label: str, log: Any) -> None:
    """The bot's warnings and errors during the benchmarks, counted (none is expected)."""
    counts = log["counts"]
    if not counts:
        print(f"{label:13} no warnings or errors")
        return
    tally = ", ".join(f"{n} {level.lower()}" for level, n in sorted(counts.items()))
    first = "; ".join(f"first {level.lower()}: {msg}" for level, msg in log["first"].items())
    print(f"{label:13} {tally} ({first})")


def _coverage(r: dict[str, Any]) -> str:
    """ "N feeds", or "N of M feeds (stopped after S s)" for a round cut short."""
    if r["complete"]:
        return f"{r['feeds']:.0f} feeds"
    return f"{r['feeds']:.0f} of {r['expected']:.0f} feeds (stopped after {r['seconds']:.0f} s)"


def _cpu(r: dict[str, Any]) -> str:
    return (
        f"bot CPU {100 * r['bot_cpu_share']:.0f} %, "
        f"server CPU {100 * r['server_cpu_share']:.0f} % of a core"
    )


def print_feed_polling(fp: dict[str, Any]) -> None:
    first = fp["first_fetch"]
    steady, idle, naive = fp["steady"], fp["all_304"], fp["naive_feedparser"]
    setup = fp["setup"]
    target = f"target ≥ {TARGET_FEEDS / TARGET_SECONDS:.0f} feeds/s"
    print(
        f"feeds, 1st    {first['feeds_per_s']:8.1f} feeds/s    ({_coverage(first)} of "
        f"{fp['feeds']} first fetched: {first['ok']:.0f}×200, {first['ingested']:.0f} backlog "
        f"items ingested quietly = {first['ingested'] / first['seconds']:.0f} items/s, "
        f"{first['not_ingested']:.0f} failed, {first['errors']:.0f} poll errors; {_cpu(first)}; "
        f"10,000 feeds ≈ {fp['seconds_for_10k_first_fetch']:.0f} s)"
    )
    print(
        f"feeds, steady {steady['feeds_per_s']:8.1f} feeds/s    ({_coverage(steady)}: "
        f"{steady['not_modified']:.0f}×304, {steady['ok']:.0f}×200 with "
        f"{fp['new_items_per_changed_feed']} new item(s), {steady['ingested']:.0f} ingested, "
        f"{steady['not_ingested']:.0f} failed, {steady['alerts']:.0f} alerts, "
        f"{steady['errors']:.0f} poll errors; {_cpu(steady)}; 10,000 feeds ≈ "
        f"{fp['seconds_for_10k_steady']:.0f} s)   {target} (10,000 in < {TARGET_SECONDS:.0f} s)"
    )
    print(
        f"feeds, 304    {idle['feeds_per_s']:8.1f} feeds/s    ({_coverage(idle)}: "
        f"{idle['not_modified']:.0f}×304, {idle['ok']:.0f}×200 — nothing new anywhere, the "
        f"polling machinery alone; {_cpu(idle)}; 10,000 feeds ≈ "
        f"{fp['seconds_for_10k_all_304']:.0f} s)   {target}"
    )
    sample = (
        f"a sample of {naive['feeds']:.0f} of {fp['feeds']}, extrapolated"
        if naive["feeds"] < fp["feeds"]
        else f"all {naive['feeds']:.0f}"
    )
    print(
        f"naive loop    {naive['feeds_per_s']:8.1f} feeds/s    (sequential feedparser.parse(url) "
        f"over {sample}; no validators, nothing stored); bot/naive: first fetch "
        f"{fp['first_fetch_vs_naive']:.2f}×, steady {fp['steady_vs_naive']:.2f}×, all-304 "
        f"{fp['all_304_vs_naive']:.2f}×"
    )
    print(
        f"              settings: HttpxFetcher max_connections {fp['max_connections']}, "
        f"per_host {fp['per_host']} (every feed is on 127.0.0.1), RunnerConfig "
        f"max_concurrent_polls {fp['max_concurrent_polls']}; {fp['feeds']} feeds × "
        f"{fp['items_per_feed']} items; rounds stop after {fp['round_budget_s']:.0f} s; "
        f"FeedCatalog.add {setup['catalog_adds_per_s']:.0f} feeds/s over the first "
        f"{setup['catalog_adds']:.0f} (it reads every feed on each add), the rest added at "
        f"{setup['bulk_adds_per_s']:.0f}/s"
    )
    for r in (first, idle, steady):
        if r.get("stuck_at"):
            print(f"              still in flight when a round was stopped: {r['stuck_at']}")


def print_dropfolder(dr: dict[str, Any]) -> None:
    watched = "inotify" if dr["events_active"] else "polling only (no inotify)"
    unalerted = dr["files_without_alert"] + dr["missed_files"]
    print(
        f"drop folder   p50 {dr['p50_ms']:.0f} ms, p99 {dr['p99_ms']:.0f} ms, max "
        f"{dr['max_ms']:.0f} ms  (file close → alert, {dr['files']:.0f} files one at a time, "
        f"{watched}; {dr['alerted_files']:.0f} alerted, {dr['new_story_files']:.0f} as new "
        f"stories, {unalerted:.0f} without alert)   target p99 < 500 ms"
    )


def print_memory(mem: dict[str, Any]) -> None:
    peak = "round peak" if mem["peak_reset"] else "peak since start"
    print(
        f"memory        {mem['after_round_mib']:8.0f} MiB RSS  after polling "
        f"{mem['round_feeds']:.0f} of {mem['feeds']:.0f} feeds in {mem['round_seconds']:.0f} s "
        f"at {mem['round_feeds_per_s']:.0f} feeds/s "
        f"({mem['round_not_modified']:.0f}×304, {mem['round_ok']:.0f}×200, "
        f"{mem['round_ingested']:.0f} items ingested); {peak} {mem['round_peak_mib']:.0f} MiB; "
        f"before: {mem['empty_db_mib']:.0f} MiB without feeds, {mem['configured_mib']:.0f} MiB "
        f"with them (fresh process)"
        + ("" if mem["round_complete"] else "; the round was stopped before it ended")
    )
    if mem.get("round_stuck_at"):
        print(f"              still in flight when the round was stopped: {mem['round_stuck_at']}")


if __name__ == "__main__":
    raise SystemExit(main())
