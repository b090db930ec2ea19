"""Channel commands: what this channel is told about, and how often.

``subscribe`` / ``unsubscribe`` / ``subscriptions``, ``mute`` / ``unmute`` and
``digest``. Changing subscriptions or the digest is for admins (it changes what a
whole channel receives); muting a story for a while is for anyone.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.clock import Clock, utc_now
from bot.commands.model import CommandRequest, Reply, ReplyField
from bot.commands.parse import CommandError, take_option
from bot.domain.alerts import AlertType, Severity
from bot.domain.delivery import Channel, Digest, Mute, Subscription, Target
from bot.ports import UnitOfWorkFactory

DEFAULT_MUTE = timedelta(hours=24)
DEFAULT_DIGEST = timedelta(hours=1)
MIN_DIGEST = timedelta(minutes=1)
MAX_KEYWORD = 80

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1h30m``, ``7d`` → a timedelta; anything else is an error."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise CommandError(f"cannot read the duration {text[:20]!r}: use e.g. 30m, 2h, 1d")
    seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    # below a microsecond ("0.0000001s") a timedelta is 0
    if not 1e-6 <= seconds <= 366 * 86400:
        raise CommandError("a duration must be more than 0 and at most a year")
    return timedelta(seconds=seconds)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _types(text: str | None) -> frozenset[AlertType]:
    if not text:
        return frozenset()
    wanted = set()
    for word in text.replace(" ", "").lower().split(","):
        if not word:
            continue
        try:
            wanted.add(AlertType(word))
        except ValueError:
            known = ", ".join(t.value for t in AlertType)
            raise CommandError(f"unknown alert type {word[:30]!r}; known: {known}") from None
    return frozenset(wanted)


def _severity(text: str | None) -> Severity:
    if not text:
        return Severity.LOW
    try:
        return Severity(text.lower())
    except ValueError:
        known = ", ".join(s.value for s in Severity)
        raise CommandError(f"unknown severity {text[:20]!r}; use one of {known}") from None


def channel_of(request: CommandRequest) -> Channel:
    if not request.channel:
        raise CommandError("this command works in a chat channel only")
    return Channel(request.platform, request.channel)


def _target(args: list[str]) -> tuple[Target, str]:
    """``[]``/``all`` → everything; ``story ID``; ``keyword WORDS…``; a bare story id too."""
    if not args or args[0].lower() == "all":
        if len(args) > 1:
            raise CommandError("`all` takes nothing after it (options go with --)")
        return Target.ALL, ""
    head = args[0].lower()
    if head == "story":
        if len(args) != 2:
            raise CommandError("usage: story ID")
        return Target.STORY, args[1].strip().lower()
    if head == "keyword":
        words = " ".join(args[1:]).strip().lower()
        if not words:
            raise CommandError("usage: keyword WORDS")
        if len(words) > MAX_KEYWORD:
            raise CommandError(f"a keyword is at most {MAX_KEYWORD} characters")
        return Target.KEYWORD, words
    if len(args) == 1:
        return Target.STORY, head
    raise CommandError("say what to follow: all, story ID, or keyword WORDS")


class ChannelCommands:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def subscribe(self, request: CommandRequest) -> Reply:
        """``subscribe [all | story ID | keyword WORDS] [--types a,b] [--min-severity S]``."""
        channel = channel_of(request)
        if not request.is_admin:
            return Reply.fail("only admins may change this channel's subscriptions")
        args = list(request.args)
        types = _types(take_option(args, "types"))
        severity = _severity(take_option(args, "min-severity") or take_option(args, "min"))
        target, value = _target(args)
        async with self._uow_factory() as uow:
            await uow.begin_write()
            if target is Target.STORY and not await uow.stories.exists(value):
                raise CommandError(f"no story {value[:20]!r} (see `stories` for IDs)")
            sub = Subscription(
                channel,
                target,
                value,
                types,
                severity,
                created_by=f"{request.platform}:{request.user}",
                created_at=self._clock(),
            )
            existed = await uow.subscriptions.get(sub.id)
            await uow.subscriptions.save(sub)
            await uow.commit()
        verb = "updated" if existed else "subscribed"
        return Reply(f"{verb}: this channel gets {sub.describe()}")

    async def unsubscribe(self, request: CommandRequest) -> Reply:
        """``unsubscribe [all | story ID | keyword WORDS | sub-ID]``."""
        channel = channel_of(request)
        if not request.is_admin:
            return Reply.fail("only admins may change this channel's subscriptions")
        args = list(request.args)
        async with self._uow_factory() as uow:
            await uow.begin_write()
            if args and args[0].lower().startswith("sub-"):
                sub_id = args[0].lower()
                found = await uow.subscriptions.get(sub_id)
                if found is None or found.channel != channel:
                    raise CommandError(f"no subscription {sub_id[:20]!r} in this channel")
            else:
                target, value = _target(args)
                sub_id = Subscription(channel, target, value).id
            removed = await uow.subscriptions.remove(sub_id)
            await uow.commit()
        if not removed:
            return Reply.fail("this channel has no such subscription (see `subscriptions`)")
        return Reply(f"unsubscribed {sub_id}")

    async def subscriptions(self, request: CommandRequest) -> Reply:
        channel = channel_of(request)
        now = self._clock()
        async with self._uow_factory() as uow:
            subs = await uow.subscriptions.for_channel(channel)
            mutes = [m for m in await uow.subscriptions.mutes(now) if m.channel == channel]
            digest = next(
                (d for d in await uow.subscriptions.digests() if d.channel == channel), None
            )
        fields = []
        if mutes:
            lines = [
                f"{m.story_id} until {m.until:%Y-%m-%d %H:%M} UTC" if m.until else m.story_id
                for m in mutes
            ]
            fields.append(ReplyField("muted", "\n".join(lines)))
        if digest is not None:
            fields.append(
                ReplyField(
                    "digest",
                    f"low-severity alerts every {_human(digest.interval)}, "
                    f"next {digest.next_at:%H:%M} UTC",
                )
            )
        if not subs:
            return Reply(
                "this channel has no subscriptions; an admin can `subscribe`", tuple(fields)
            )
        return Reply(
            "this channel's subscriptions:\n" + "\n".join(s.describe() for s in subs), tuple(fields)
        )

    async def mute(self, request: CommandRequest) -> Reply:
        """``mute ID [duration]`` (default 24h)."""
        channel = channel_of(request)
        if not request.args or len(request.args) > 2:
            raise CommandError("usage: mute ID [duration, e.g. 2h]")
        story_id = request.args[0].strip().lower()
        length = parse_duration(request.args[1]) if len(request.args) == 2 else DEFAULT_MUTE
        until = self._clock() + length
        async with self._uow_factory() as uow:
            await uow.begin_write()
            if not await uow.stories.exists(story_id):
                raise CommandError(f"no story {story_id[:20]!r} (see `stories` for IDs)")
            await uow.subscriptions.save_mute(Mute(channel, story_id, until))
            await uow.commit()
        return Reply(
            f"story {story_id} muted in this channel for {_human(length)} "
            f"(until {until:%Y-%m-%d %H:%M} UTC); `unmute {story_id}` ends it"
        )

    async def unmute(self, request: CommandRequest) -> Reply:
        channel = channel_of(request)
        if len(request.args) != 1:
            raise CommandError("usage: unmute ID")
        story_id = request.args[0].strip().lower()
        async with self._uow_factory() as uow:
            await uow.begin_write()
            removed = await uow.subscriptions.remove_mute(channel, story_id)
            await uow.commit()
        if not removed:
            return Reply.fail(f"story {story_id[:20]} is not muted here")
        return Reply(f"story {story_id} unmuted")

    async def digest(self, request: CommandRequest) -> Reply:
        """``digest on [interval] | off``: batch low-severity alerts."""
        channel = channel_of(request)
        if not request.is_admin:
            return Reply.fail("only admins may change this channel's digest")
        args = [a.lower() for a in request.args]
        if not args or args[0] not in ("on", "off") or len(args) > 2:
            raise CommandError("usage: digest on [interval, e.g. 1h] | digest off")
        async with self._uow_factory() as uow:
            await uow.begin_write()
            if args[0] == "off":
                removed = await uow.subscriptions.remove_digest(channel)
                released = await uow.outbox.release_held(channel)
                await uow.commit()
                if not removed:
                    return Reply("the digest was already off", ephemeral=True)
                return Reply(f"digest off; {released} held alert(s) will be sent now")
            interval = parse_duration(args[1]) if len(args) == 2 else DEFAULT_DIGEST
            if interval < MIN_DIGEST:
                raise CommandError("a digest interval is at least 1m")
            await uow.subscriptions.save_digest(Digest(channel, interval, self._clock() + interval))
            await uow.commit()
        return Reply(f"digest on: low-severity alerts arrive together every {_human(interval)}")
