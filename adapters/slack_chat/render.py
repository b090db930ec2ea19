"""Neutral alerts, cards and replies → Slack Block Kit, within Slack's limits.

Untrusted text (titles, sentences, quotes, outlet and source names) goes into
``plain_text`` objects, which Slack never parses for mentions or formatting, so
"<!channel>" or "*bold*" in a headline stays literally that. Where Slack only
takes mrkdwn (the notification ``text``, link labels in context blocks), ``&``,
``<`` and ``>`` are escaped as Slack asks, which is what disarms ``<!here>``,
``<@U123>`` and ``<#C123>``.

Limits: header 150, section text 3000, 10 fields of 2000, context 10 elements,
50 blocks per message; the notification text is kept under 3000.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.commands.model import Reply
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert, Severity
from bot.domain.delivery import StoryCard
from bot.domain.stories import lineage_text
from bot.text import clip, one_line

HEADER = 150
SECTION = 3000
FIELD = 2000
FIELDS = 10
TEXT = 3000
BLOCKS = 50

Block = dict[str, Any]

MARK = {
    Severity.LOW: "⚪",
    Severity.MEDIUM: "🟡",
    Severity.HIGH: "🟠",
    Severity.CRITICAL: "🔴",
}


def escape(text: str) -> str:
    """Slack's own escaping for mrkdwn and ``text``: the only three characters it asks for."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_safe(text: str, limit: int) -> str:
    return escape(clip(one_line(text), limit))


def plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": False}


def _url(url: str | None) -> str | None:
    """An http(s) URL usable inside ``<url|label>``: no characters that end the link."""
    if not url or not url.startswith(("http://", "https://")) or len(url) > 2000:
        return None
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def _link(url: str | None, label: str) -> str:
    safe_url = _url(url)
    text = mrkdwn_safe(label, 200)
    return f"<{safe_url}|{text}>" if safe_url else text


def _fields(pairs: Sequence[tuple[str, str]]) -> list[Block]:
    return [
        {"type": "plain_text", "text": clip(f"{name}: {value}", FIELD), "emoji": False}
        for name, value in pairs[:FIELDS]
        if value
    ]


def alert_message(alert: Alert) -> tuple[str, list[Block]]:
    """(notification text, blocks)."""
    label = alert.type.label
    heading = f"{MARK[alert.severity]} {label}: {one_line(alert.story_title)}"
    blocks: list[Block] = [
        {"type": "header", "text": plain(heading, HEADER)},
        {"type": "section", "text": plain(alert.summary, SECTION)},
    ]
    if alert.sentence:
        blocks.append({"type": "section", "text": plain(f"“{one_line(alert.sentence)}”", SECTION)})
    if alert.quote and alert.quote != alert.sentence:
        blocks.append({"type": "section", "text": plain(f"“{one_line(alert.quote)}”", SECTION)})
    who = (alert.speaker or "") + (f" ({alert.speaker_role})" if alert.speaker_role else "")
    fields = _fields(
        [
            ("Figure history", lineage_text(alert.history) if alert.history else ""),
            ("Attributed to", alert.attributed_to or ""),
            ("Disagrees with", alert.conflict_with or ""),
            ("Speaker", who),
            ("Severity", alert.severity.value),
        ]
    )
    if fields:
        blocks.append({"type": "section", "fields": fields})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": _link(alert.url, alert.outlet)},
                {"type": "plain_text", "text": f"story {alert.story_id}", "emoji": False},
            ],
        }
    )
    text = mrkdwn_safe(f"{label}: {alert.summary} ({alert.outlet})", TEXT)
    return text, blocks


def card_message(card: StoryCard) -> tuple[str, list[Block]]:
    heading = f"{MARK[card.severity]} Story {card.story_id}: {one_line(card.title)}"
    blocks: list[Block] = [{"type": "header", "text": plain(heading, HEADER)}]
    if card.latest:
        blocks.append({"type": "section", "text": plain(f"Latest: {card.latest}", SECTION)})
    for fig in card.figures[: BLOCKS - 6]:
        lines = [f"{fig.label}: {fig.current} — {fig.source}", fig.lineage]
        lines += [f"⚠ {c}" for c in fig.conflicts]
        blocks.append({"type": "section", "text": plain("\n".join(lines), SECTION)})
    if card.officials:
        blocks.append(
            {"type": "section", "text": plain("Officials: " + "; ".join(card.officials), SECTION)}
        )
    updated = f"{card.articles} article(s) · updated {card.updated_at:%Y-%m-%d %H:%M} UTC"
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "plain_text", "text": updated, "emoji": False},
                {"type": "mrkdwn", "text": _link(card.url, "latest article")},
            ],
        }
    )
    return mrkdwn_safe(f"Story {card.story_id}: {card.title}", TEXT), blocks


def digest_message(alerts: Sequence[Alert]) -> tuple[str, list[Block]]:
    lines = [f"• [{a.story_id}] {one_line(a.summary)} — {one_line(a.outlet)}" for a in alerts]
    title = f"Digest: {len(alerts)} low-severity alert(s)"
    blocks: list[Block] = [
        {"type": "header", "text": plain(title, HEADER)},
        {"type": "section", "text": plain("\n".join(lines), SECTION)},
    ]
    return title, blocks


def admin_message(alert: AdminAlert) -> tuple[str, list[Block]]:
    text = f"Admin ({alert.kind.value}): {alert.message}"
    return mrkdwn_safe(text, TEXT), [{"type": "section", "text": plain(text, SECTION)}]


def reply_message(reply: Reply) -> tuple[str, list[Block]]:
    """A command's reply. Replies quote articles, so everything is plain text."""
    first, _, rest = reply.text.partition("\n")
    blocks: list[Block] = [{"type": "section", "text": plain(first, SECTION)}]
    if rest:
        blocks.append({"type": "section", "text": plain(rest, SECTION)})
    for f in reply.fields[: BLOCKS - 2]:
        blocks.append({"type": "section", "text": plain(f"{f.name}\n{f.value}", SECTION)})
    return mrkdwn_safe(reply.text, TEXT), blocks
