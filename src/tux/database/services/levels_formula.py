"""Tux's level curve: the XP needed for level ``L`` is ``500 * (L / 5) ** 2``, and its exact inverse.

``500 * (L / 5) ** 2`` simplifies to ``20 * L ** 2``, an integer for every level, so both directions are
computed in integer arithmetic. Tux's original ``int((xp / 500) ** 0.5 * 5)`` goes through a float
square root and can land one level low exactly on a threshold (``xp_needed(L)`` must give level ``L``);
:func:`level_for_xp` never does.
"""

from __future__ import annotations

import math

from tux.database.exceptions import ValidationError
from tux.database.repositories.support import finite_number

XP_PER_SQUARED_LEVEL = 20
"""``500 / 5 ** 2``: the curve is ``XP_PER_SQUARED_LEVEL * level ** 2``."""


def xp_needed(level: int) -> int:
    """Return the total XP at which a member reaches ``level``.

    Raises
    ------
    ValidationError
        If ``level`` is not an integer >= 0.
    """
    if isinstance(level, bool) or not isinstance(level, int) or level < 0:
        raise ValidationError(f"level: expected an integer >= 0, got {level!r}")
    return XP_PER_SQUARED_LEVEL * level * level


def level_for_xp(xp: float) -> int:
    """Return the highest level whose :func:`xp_needed` is at most ``xp``.

    Thresholds are integers, so ``20 * L ** 2 <= xp`` holds exactly when ``L ** 2 <= floor(xp) // 20``,
    and :func:`math.isqrt` answers that without rounding.

    Raises
    ------
    ValidationError
        If ``xp`` is not a finite number >= 0.
    """
    finite_number("xp", xp, minimum=0)
    return math.isqrt(math.floor(xp) // XP_PER_SQUARED_LEVEL)
