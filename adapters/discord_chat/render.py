"""Neutral alerts, cards and replies → Discord embeds, within Discord's limits.

Every piece of text that came from an article (titles, sentences, quotes, outlet
and source names) is *neutralised*: markdown is escaped and every ``@`` gets a
zero-width joiner after it, so "@everyone", "<@123>" or "<@&456>" are shown, never
parsed as mentions. Messages are also sent with ``AllowedMentions.none()``: two
independent locks on the same door.

Limits (Discord API): title 256, description 4096, 25 fields of name 256 / value
1024, footer 2048, 6000 characters per embed in all, message content 2000.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.commands.model import Reply
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert, Severity
from bot.domain.delivery import StoryCard
from bot.domain.stories import lineage_text
from bot.text import clip, one_line

TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS = 25
FOOTER = 2048
EMBED_TOTAL = 6000
CONTENT = 2000

COLOUR = {
    Severity.LOW: 0x95A5A6,
    Severity.MEDIUM: 0xF1C40F,
    Severity.HIGH: 0xE67E22,
    Severity.CRITICAL: 0xE74C3C,
}

MENTIONS_OFF = discord.AllowedMentions.none()


def safe(text: str, limit: int, *, single_line: bool = False) -> str:
    """Untrusted text as inert Discord text: no mentions, no markdown, within ``limit``."""
    if single_line:
        text = one_line(text)
    text = discord.utils.escape_markdown(text)
    # A line starting with ">", "#" or "-" would quote, head or list it.
    text = "\n".join(
        "\\" + line if line.lstrip()[:1] in (">", "#", "-") else line for line in text.split("\n")
    )
    text = text.replace("@", "@\u200b")
    return clip(text, limit)


def _link(url: str | None) -> str | None:
    """Only http(s) links become embed URLs (``javascript:`` and friends never do)."""
    return url if url and url.startswith(("http://", "https://")) and len(url) <= 2000 else None


class _Budget:
    """Adds fields while the embed stays within Discord's 6000-character total."""

    def __init__(self, embed: discord.Embed) -> None:
        self.embed = embed
        self.used = len(embed.title or "") + len(embed.description or "")

    def add(self, name: str, value: str, *, inline: bool = False) -> None:
        if len(self.embed.fields) >= FIELDS or not value:
            return
        name = clip(name, FIELD_NAME)
        value = clip(value, FIELD_VALUE)
        room = EMBED_TOTAL - 300 - self.used  # keep room for the footer
        if room <= len(name) + 1:
            return
        value = clip(value, min(len(value), room - len(name)))
        self.used += len(name) + len(value)
        self.embed.add_field(name=name, value=value, inline=inline)


def alert_embed(alert: Alert) -> discord.Embed:
    title = f"{alert.type.label}: {one_line(alert.story_title)}"
    description = safe(alert.summary, 1000)
    if alert.sentence:
        description += "\n\n“" + safe(alert.sentence, 1500, single_line=True) + "”"
    if alert.quote and alert.quote != alert.sentence:
        description += "\n\n“" + safe(alert.quote, 1000, single_line=True) + "”"
    embed = discord.Embed(
        title=safe(title, TITLE, single_line=True),
        description=clip(description, DESCRIPTION),
        url=_link(alert.url),
        colour=COLOUR[alert.severity],
        timestamp=alert.published,
    )
    fields = _Budget(embed)
    if alert.history:
        fields.add("Figure history", safe(lineage_text(alert.history), FIELD_VALUE))
    if alert.attributed_to:
        fields.add("Attributed to", safe(alert.attributed_to, 200, single_line=True), inline=True)
    if alert.conflict_with:
        fields.add("Disagrees with", safe(alert.conflict_with, 200, single_line=True), inline=True)
    if alert.speaker:
        who = alert.speaker + (f" ({alert.speaker_role})" if alert.speaker_role else "")
        fields.add("Speaker", safe(who, 300, single_line=True), inline=True)
    source = safe(alert.outlet, 200, single_line=True)
    link = _link(alert.url)
    fields.add("Source", f"[{source}]({link})" if link else source, inline=True)
    embed.set_footer(text=clip(f"claimwatch · story {alert.story_id} · {alert.severity}", FOOTER))
    return embed


def card_embed(card: StoryCard) -> discord.Embed:
    """The story's first message: where the story stands now."""
    lines = [safe(card.latest, 500)] if card.latest else []
    lines.append(f"{card.articles} article(s) · updated {card.updated_at:%Y-%m-%d %H:%M} UTC")
    embed = discord.Embed(
        title=safe(f"Story {card.story_id}: {card.title}", TITLE, single_line=True),
        description=clip("\n".join(lines), DESCRIPTION),
        url=_link(card.url),
        colour=COLOUR[card.severity],
    )
    fields = _Budget(embed)
    for fig in card.figures:
        value = [f"**{safe(fig.current, 100)}** — {safe(fig.source, 200, single_line=True)}"]
        value.append(safe(fig.lineage, 400))
        value.extend("⚠ " + safe(c, 200, single_line=True) for c in fig.conflicts)
        fields.add(safe(fig.label, FIELD_NAME, single_line=True), "\n".join(value))
    if card.officials:
        fields.add("Officials", safe("; ".join(card.officials), FIELD_VALUE))
    embed.set_footer(text=f"claimwatch · story {card.story_id} · follow-ups in the thread")
    return embed


def digest_embed(alerts: Sequence[Alert]) -> discord.Embed:
    lines = [
        f"• [{a.story_id}] {safe(a.summary, 300, single_line=True)} — "
        f"{safe(a.outlet, 80, single_line=True)}"
        for a in alerts
    ]
    return discord.Embed(
        title=f"Digest: {len(alerts)} low-severity alert(s)",
        description=clip("\n".join(lines), DESCRIPTION),
        colour=COLOUR[Severity.LOW],
    )


def admin_embed(alert: AdminAlert) -> discord.Embed:
    return discord.Embed(
        title=clip(f"Admin: {alert.kind.value}", TITLE),
        description=safe(alert.message, DESCRIPTION),
        colour=COLOUR[alert.severity],
        timestamp=alert.at,
    )


def reply_parts(reply: Reply) -> tuple[str, list[discord.Embed]]:
    """A command's reply as (content, embeds). Replies quote articles: neutralised too."""
    if not reply.fields:
        return safe(reply.text, CONTENT), []
    embed = discord.Embed(
        title=safe(reply.text.split("\n", 1)[0], TITLE, single_line=True),
        description=safe(reply.text.split("\n", 1)[1], DESCRIPTION) if "\n" in reply.text else None,
        colour=0xE74C3C if reply.error else 0x3498DB,
    )
    fields = _Budget(embed)
    for f in reply.fields:
        fields.add(
            safe(f.name, FIELD_NAME, single_line=True), safe(f.value, FIELD_VALUE), inline=f.inline
        )
    return "", [embed]
