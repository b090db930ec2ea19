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
from typing import TYPE_CHECKING

from bot.domain.stories import FigureStep, Series, Story
from bot.service.queries import figure_label, overview

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_PANELS = 4
MAX_LABEL = 48


def _short(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float) -> str:
    """1,000,000 rather than 1e6: desks read counts, not scientific notation."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


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
    import matplotlib
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"text.parse_math": False, "font.size": 9}):
        fig = timeline_figure(story)
        if fig is None:
            return None
        try:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110)
            return buf.getvalue()
        finally:
            plt.close(fig)


def timeline_figure(story: Story) -> Figure | None:
    """The chart as a matplotlib figure (the caller closes it): a panel per figure."""
    series = [view.series for view in overview(story).figures][:MAX_PANELS]
    if not series:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    # One time range for every panel: a single observation would otherwise make
    # matplotlib widen its axis to years.
    times = [step.at for ser in series for steps in _by_source(ser).values() for step in steps]
    span = max(times) - min(times)
    pad = max(timedelta(hours=1), span * 0.08)
    start, end = min(times) - pad, max(times) + pad

    fig, axes = plt.subplots(len(series), 1, figsize=(9.5, 2.6 * len(series) + 0.6), squeeze=False)
    try:
        for ax, ser in zip(axes[:, 0], series, strict=True):
            lines = sorted(_by_source(ser).items())
            top = max(s.quantity.value for _, steps in lines for s in steps)
            placed: list[tuple[datetime, float]] = []
            for source, steps in lines:
                xs = [s.at for s in steps]
                ys = [s.quantity.value for s in steps]
                ax.step(xs, ys, where="post", marker="o", label=_short(source, 32))
                for x, y in zip(xs, ys, strict=True):
                    # Sources that agree (or nearly) at the same moment would print
                    # their values on top of each other: stack the labels instead.
                    near = sum(
                        1
                        for px, py in placed
                        if abs((px - x).total_seconds()) <= span.total_seconds() * 0.02
                        and abs(py - y) <= top * 0.15
                    )
                    placed.append((x, y))
                    ax.annotate(
                        _number(y),
                        (x, y),
                        textcoords="offset points",
                        xytext=(6, 9 * near),
                        ha="left",
                        va="center",
                        fontsize=7,
                        color=ax.lines[-1].get_color(),
                    )
            ax.set_title(_short(figure_label(ser), 80), fontsize=9, loc="left")
            ax.set_ylabel("count")
            ax.grid(True, alpha=0.3)
            # Beside the plot, never over the first values (which sit top left).
            ax.legend(
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=7,
                title="source",
                title_fontsize=7,
            )
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _number(v)))
            locator = mdates.AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(
                mdates.ConciseDateFormatter(locator, tz=UTC)  # type: ignore[no-untyped-call]
            )
            ax.set_xlim(start, end)
            ax.set_ylim(bottom=0, top=top * 1.3 if top > 0 else 1)  # room for the labels
        axes[-1, 0].set_xlabel("time (UTC)")
        fig.suptitle(_short(f"{story.id} · {story.title}", 90), fontsize=10)
        fig.tight_layout()
    except BaseException:
        plt.close(fig)
        raise
    return fig
