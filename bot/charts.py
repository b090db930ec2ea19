"""Timeline charts: each figure of a story over time, one line per source (PNG bytes).

matplotlib with the Agg backend (no display), imported on first use because it
costs ~0.5 s to import. Rendering takes ~100 ms, so callers run it in a thread.
Titles and source names come from articles: ``text.parse_math`` is off so a ``$``
in a headline is drawn as a dollar sign, not parsed as TeX.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from bot.domain.stories import FigureStep, Series, Story
from bot.service.queries import figure_label, overview

MAX_PANELS = 4
MAX_LABEL = 48


def _short(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _by_source(series: Series) -> dict[str, list[FigureStep]]:
    """Every dated observation of the figure, grouped by who gave it, in time order."""
    lines: dict[str, list[FigureStep]] = defaultdict(list)
    seen: set[tuple[str, datetime, float]] = set()
    for step in (*series.lineage, *series.by_source.values()):
        key = (step.source, step.at, step.quantity.value)
        if key in seen:
            continue
        seen.add(key)
        lines[step.source].append(step)
    for steps in lines.values():
        steps.sort(key=lambda s: s.at)
    return dict(lines)


def render_timeline(story: Story) -> bytes | None:
    """A PNG of the story's figures over time, or None if it has no figures yet."""
    series = [view.series for view in overview(story).figures][:MAX_PANELS]
    if not series:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    # One time range for every panel: a single observation would otherwise make
    # matplotlib widen its axis to years.
    times = [step.at for ser in series for steps in _by_source(ser).values() for step in steps]
    span = max(times) - min(times)
    pad = max(timedelta(hours=1), span * 0.08)
    start, end = min(times) - pad, max(times) + pad

    with matplotlib.rc_context({"text.parse_math": False, "font.size": 9}):
        fig, axes = plt.subplots(
            len(series), 1, figsize=(8, 2.6 * len(series) + 0.6), squeeze=False
        )
        try:
            for ax, ser in zip(axes[:, 0], series, strict=True):
                for source, steps in sorted(_by_source(ser).items()):
                    xs = [s.at for s in steps]
                    ys = [s.quantity.value for s in steps]
                    ax.step(xs, ys, where="post", marker="o", label=_short(source, 32))
                    for x, y in zip(xs, ys, strict=True):
                        ax.annotate(
                            f"{y:,.0f}" if float(y).is_integer() else f"{y:,g}",
                            (x, y),
                            textcoords="offset points",
                            xytext=(0, 5),
                            ha="center",
                            fontsize=7,
                        )
                ax.set_title(_short(figure_label(ser), 80), fontsize=9, loc="left")
                ax.set_ylabel("count")
                ax.grid(True, alpha=0.3)
                ax.legend(loc="upper left", fontsize=7, title="source", title_fontsize=7)
                locator = mdates.AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(
                    mdates.ConciseDateFormatter(locator, tz=UTC)  # type: ignore[no-untyped-call]
                )
                ax.set_xlim(start, end)
                ax.set_ylim(bottom=0)
            axes[-1, 0].set_xlabel("time (UTC)")
            fig.suptitle(_short(f"{story.id} · {story.title}", 90), fontsize=10)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110)
            return buf.getvalue()
        finally:
            plt.close(fig)
