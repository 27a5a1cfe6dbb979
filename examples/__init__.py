"""A small Tux-style bot written the recommended way on tux-database (``python -m examples.bot``)."""
