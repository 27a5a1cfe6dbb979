"""Integrations with the frameworks a bot is built on (``tux.database.ext.discord`` for discord.py)."""
