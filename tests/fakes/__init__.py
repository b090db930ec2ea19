"""Local fake chat platforms (Discord, Slack) on 127.0.0.1 for the adapter tests.

The real discord.py and slack-bolt/slack-sdk clients talk to these over HTTP and
WebSocket; nothing is monkeypatched. Each fake runs its own event loop in a thread
so that tests can drive an in-process bot or a ``claimwatch run`` subprocess alike.
"""
