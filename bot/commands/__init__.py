"""The chat command layer, platform-neutral: a parsed request in, a neutral reply out.

Adapters (Discord, Slack, console) only parse the platform's payload into a
:class:`~bot.commands.model.CommandRequest` and render the
:class:`~bot.commands.model.Reply`; what a command means lives here once.
"""

from bot.commands.model import CommandRequest, Reply, ReplyField
from bot.commands.parse import CommandError, parse_command

__all__ = ["CommandError", "CommandRequest", "Reply", "ReplyField", "parse_command"]
