"""Enumerations stored as text columns; member names are the stored values, as in Tux's schema."""

from __future__ import annotations

from enum import StrEnum


class CaseType(StrEnum):
    """The kind of moderation action a case records."""

    BAN = "BAN"
    UNBAN = "UNBAN"
    HACKBAN = "HACKBAN"
    TEMPBAN = "TEMPBAN"
    KICK = "KICK"
    SNIPPETBAN = "SNIPPETBAN"
    SNIPPETUNBAN = "SNIPPETUNBAN"
    TIMEOUT = "TIMEOUT"
    UNTIMEOUT = "UNTIMEOUT"
    WARN = "WARN"
    JAIL = "JAIL"
    UNJAIL = "UNJAIL"
    POLLBAN = "POLLBAN"
    POLLUNBAN = "POLLUNBAN"


class CaseStatus(StrEnum):
    """Whether a case still counts: a voided case stays in history but no longer applies."""

    ACTIVE = "ACTIVE"
    VOIDED = "VOIDED"


class OnboardingStage(StrEnum):
    """How far a guild got through the setup wizard."""

    NOT_STARTED = "NOT_STARTED"
    INITIALIZED = "INITIALIZED"
    CONFIGURED = "CONFIGURED"
    COMPLETED = "COMPLETED"
