"""The CLI's console and the library's log routing, shared by every command and spawned process."""

from __future__ import annotations

import sys

from loguru import logger
from rich.console import Console

console = Console(width=None if sys.stdout.isatty() else 130)
"""Wide enough for the report's tables when the output is a file or a pipe."""


def route_logs(level: str = "WARNING") -> None:
    """Send the library's loguru records to stderr at ``level`` and above."""
    logger.remove()
    logger.add(sys.stderr, level=level.upper())
