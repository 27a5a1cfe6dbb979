"""Stand-ins for the few discord.py objects the example cogs touch (Discord itself cannot run here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import discord


@dataclass(frozen=True)
class Role:
    id: int


@dataclass
class Member:
    id: int
    roles: list[Role] = field(default_factory=list)
    bot: bool = False
    added: list[Role] = field(default_factory=list)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    async def add_roles(self, *roles: Role, reason: str | None = None) -> None:
        self.added.extend(roles)
        self.roles.extend(roles)


@dataclass
class Channel:
    id: int
    sent: list[str] = field(default_factory=list)

    async def send(self, text: str) -> None:
        self.sent.append(text)


@dataclass
class Guild:
    id: int
    members: dict[int, Member] = field(default_factory=dict)
    roles: dict[int, Role] = field(default_factory=dict)
    banned: list[int] = field(default_factory=list)
    refuse: bool = False

    def get_member(self, member_id: int) -> Member | None:
        return self.members.get(member_id)

    def get_role(self, role_id: int) -> Role | None:
        return self.roles.get(role_id)

    async def ban(self, member: Member, *, reason: str) -> None:
        if self.refuse:
            raise discord.Forbidden(SimpleNamespace(status=403, reason="Forbidden"), "Missing Permissions")
        self.banned.append(member.id)

    async def unban(self, user: Member, *, reason: str) -> None:
        self.banned.remove(user.id)


@dataclass
class Context:
    guild: Guild | None
    author: Member
    sent: list[str] = field(default_factory=list)

    async def send(self, text: str) -> None:
        self.sent.append(text)


@dataclass
class Message:
    guild: Guild | None
    author: Member
    channel: Channel
    content: str = "hello"
