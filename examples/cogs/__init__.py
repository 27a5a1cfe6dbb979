"""The example bot's cogs; each is a discord.py extension (``bot.load_extension("examples.cogs.<name>")``)."""
