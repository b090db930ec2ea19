"""Console adapter: alerts as readable rich panels, or as JSON lines for machines.

Article text is untrusted: everything from an article is wrapped in ``rich.text.Text``
(never parsed as markup) so a title like ``[bold red]`` or ``[link=…]`` stays text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal, TextIO

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert, Severity
from bot.domain.stories import lineage_text

Format = Literal["text", "jsonl"]

_COLOURS = {
    Severity.LOW: "grey50",
    Severity.MEDIUM: "yellow",
    Severity.HIGH: "red",
    Severity.CRITICAL: "bold magenta",
}


def render_alert(alert: Alert) -> Panel:
    body = Text()
    body.append(alert.summary, style="bold")
    if alert.history:
        body.append("\nhistory: ", style="dim")
        body.append(lineage_text(alert.history))
    if alert.attributed_to and not alert.speaker:
        body.append("\nattributed to: ", style="dim")
        body.append(alert.attributed_to)
    if alert.sentence:
        body.append("\n“", style="dim")
        body.append(alert.sentence, style="italic")
        body.append("”", style="dim")
    src = Text("\n")
    src.append(alert.outlet, style="cyan")
    if alert.url:
        src.append(" · ")
        src.append(alert.url, style="underline")
    src.append(f" · {alert.article_id}", style="dim")
    if alert.published:
        src.append(f" · {alert.published:%Y-%m-%d %H:%M}", style="dim")
    title = Text(f"{alert.type.value} · {alert.severity.value} · story {alert.story_id}")
    return Panel(
        Group(body, src),
        title=title,
        title_align="left",
        border_style=_COLOURS[alert.severity],
        subtitle=Text(alert.story_title[:80]),
        subtitle_align="right",
    )


class ConsoleSink:
    """An ``AlertSink`` that prints alerts as they are committed."""

    def __init__(self, fmt: Format = "text", *, stream: TextIO | None = None) -> None:
        self._fmt = fmt
        self._stream = stream
        self._console = Console(file=stream, highlight=False, soft_wrap=False)
        self.count = 0

    async def publish(self, alerts: Sequence[Alert]) -> None:
        for alert in alerts:
            self.count += 1
            if self._fmt == "jsonl":
                self._write_record(alert.as_record())
            else:
                self._console.print(render_alert(alert))

    async def publish_admin(self, alerts: Sequence[AdminAlert]) -> None:
        for alert in alerts:
            self.count += 1
            if self._fmt == "jsonl":
                self._write_record(alert.as_record())
            else:
                text = Text(f"admin · {alert.kind.value} · {alert.severity.value}: ")
                text.stylize(_COLOURS[alert.severity])
                text.append(alert.message)  # feed names and errors are untrusted text
                self._console.print(text)

    def _write_record(self, record: dict[str, object]) -> None:
        self._console.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._console.file.flush()
