"""``SnippetService``: Tux's snippet rules, each operation one unit of work.

Rules kept from Tux: names are 1-100 ASCII letters, digits, ``-`` and ``_``, unique per guild in any
letter case; content that is exactly the name of an existing snippet makes an alias of it; a
snippet-banned member can neither create nor edit; a locked snippet is changed by moderators only, and
anyone else changes only their own snippets.

Aliases are one hop: an alias always names a snippet that is not itself an alias. Deleting a snippet
deletes the aliases pointing at it in the same transaction (re-pointing them would need a new target
nobody chose), so no alias is ever left dangling.

Races are closed with the target row's write lock: before an alias is attached to a snippet, and before
a snippet is edited or deleted, the row is re-read under its lock (:meth:`SnippetService._locked`), so a
concurrent delete either waits for the new alias to commit and then removes it too, or has already
removed the target and the alias creation fails with :class:`~tux.database.exceptions.NotFoundError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tux.database.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tux.database.models import Snippet
from tux.database.repositories.interfaces import IGuildRepository, IMemberStatusRepository, ISnippetRepository
from tux.database.repositories.support import checked_required
from tux.database.transactions.patterns import TransactionManager

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")
"""A whole snippet name (use ``fullmatch``): ASCII letters, digits, ``-`` and ``_``, 1-100 of them."""

NAME_CONSTRAINT = "uq_snippet_guild_id_lower_snippet_name"


@dataclass(frozen=True, slots=True)
class SnippetDeletion:
    """What :meth:`SnippetService.delete` removed: the snippet and the aliases that pointed at it."""

    name: str
    aliases_removed: tuple[str, ...]


def validate_name(name: object, *, label: str = "name") -> str:
    """Return ``name`` if it is a valid snippet name.

    Raises
    ------
    ValidationError
        If ``name`` is not a string of 1-100 ASCII letters, digits, ``-`` or ``_``.
    """
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        raise ValidationError(
            f"{label}: a snippet name is 1-100 letters, digits, '-' or '_' without spaces, got {name!r}"
        )
    return name


def _validate_content(content: object) -> str:
    """Return ``content`` if it is 1-4000 characters of text without NUL and not only whitespace."""
    text: str = checked_required(Snippet, "snippet_content", content)
    if not text.strip():
        raise ValidationError("snippet_content: a snippet needs some text")
    return text


def _refused(reason: str) -> PermissionDeniedError:
    """The error for an action the member may not take."""
    return PermissionDeniedError(reason)


def _name_taken(guild_id: int, name: str) -> ConflictError:
    return ConflictError(
        f"guild {guild_id} already has a snippet called {name!r}", constraint=NAME_CONSTRAINT
    )


def _missing(guild_id: int, name: str) -> NotFoundError:
    return NotFoundError(f"guild {guild_id} has no snippet called {name!r}")


class SnippetService:
    """Create, alias, use, edit, lock and delete snippets atomically.

    Parameters
    ----------
    transactions
        Opens the unit of work of each operation.
    snippets
        The snippet rows.
    member_status
        Answers "is this member snippet-banned?" with one primary-key read.
    guilds
        Creates the guild row a first snippet needs.
    """

    def __init__(
        self,
        transactions: TransactionManager,
        *,
        snippets: ISnippetRepository,
        member_status: IMemberStatusRepository,
        guilds: IGuildRepository,
    ) -> None:
        self._transactions = transactions
        self._snippets = snippets
        self._member_status = member_status
        self._guilds = guilds

    async def create(self, guild_id: int, name: str, content: str, author_id: int) -> Snippet:
        """Create snippet ``name``; if ``content`` is the name of an existing snippet, alias it instead.

        An alias made this way points at what ``content`` resolves to, so naming an alias aliases its
        target (no chains).

        Raises
        ------
        ValidationError
            On a bad name or content.
        ConflictError
            If the name is taken (also when a concurrent create wins the race).
        PermissionDeniedError
            If the author is snippet-banned.
        """
        validate_name(name)
        _validate_content(content)

        async def operation() -> Snippet:
            await self._require_not_banned(guild_id, author_id)
            await self._require_free(guild_id, name)
            target = (
                await self._snippets.resolve(guild_id, content) if NAME_PATTERN.fullmatch(content) else None
            )
            if target is not None:
                return await self._attach_alias(guild_id, name, target, author_id)
            await self._guilds.ensure(guild_id)
            return await self._snippets.create(
                {
                    "guild_id": guild_id,
                    "snippet_name": name,
                    "snippet_content": content,
                    "snippet_user_id": author_id,
                }
            )

        return await self._transactions.execute_in_transaction(operation, name="snippets.create")

    async def create_alias(self, guild_id: int, name: str, target: str, author_id: int) -> Snippet:
        """Create ``name`` as an alias of the snippet ``target``.

        Raises
        ------
        ValidationError
            On a bad name, or when ``target`` is itself an alias.
        NotFoundError
            If ``target`` does not exist (or is deleted concurrently).
        ConflictError
            If ``name`` is taken.
        PermissionDeniedError
            If the author is snippet-banned.
        """
        validate_name(name)
        validate_name(target, label="target")

        async def operation() -> Snippet:
            await self._require_not_banned(guild_id, author_id)
            await self._require_free(guild_id, name)
            found = await self._snippets.find_by_name(guild_id, target)
            if found is None:
                raise _missing(guild_id, target)
            if found.alias is not None:
                raise ValidationError(
                    f"{found.snippet_name!r} is itself an alias of {found.alias!r}; alias that one instead"
                )
            return await self._attach_alias(guild_id, name, found, author_id)

        return await self._transactions.execute_in_transaction(operation, name="snippets.create_alias")

    async def get(self, guild_id: int, name: str) -> Snippet | None:
        """Return the snippet ``name`` stands for (an alias's target) with its ``uses`` counted.

        One ``UPDATE ... SET uses = uses + 1 ... RETURNING``: no use is lost under concurrency. The
        returned row carries the target's ``locked`` flag. ``None`` when the name is unknown.

        Raises
        ------
        ValidationError
            On a bad name.
        """
        validate_name(name)

        async def operation() -> Snippet | None:
            return await self._snippets.use(guild_id, name)

        return await self._transactions.execute_in_transaction(operation, name="snippets.get")

    async def edit(
        self, guild_id: int, name: str, content: str, editor_id: int, *, is_moderator: bool
    ) -> Snippet:
        """Replace the content of snippet ``name``.

        Raises
        ------
        ValidationError
            On a bad name or content, or when ``name`` is an alias (edit its target).
        NotFoundError
            If there is no such snippet.
        PermissionDeniedError
            If the editor is snippet-banned, or may not change this snippet.
        """
        validate_name(name)
        _validate_content(content)

        async def operation() -> Snippet:
            await self._require_not_banned(guild_id, editor_id)
            snippet = await self._existing(guild_id, name)
            if snippet.alias is not None:
                raise ValidationError(
                    f"{snippet.snippet_name!r} is an alias of {snippet.alias!r}; edit {snippet.alias!r}"
                )
            current = await self._locked(snippet)
            _require_may_change(current, editor_id, is_moderator=is_moderator)
            edited = await self._snippets.update(current.snippet_id, {"snippet_content": content})
            if edited is None:
                raise _missing(guild_id, name)
            return edited

        return await self._transactions.execute_in_transaction(operation, name="snippets.edit")

    async def delete(self, guild_id: int, name: str, actor_id: int, *, is_moderator: bool) -> SnippetDeletion:
        """Delete snippet ``name`` and, when it is not an alias, every alias pointing at it.

        The aliases go whatever their own lock or author: they only ever meant the deleted snippet.

        Raises
        ------
        ValidationError
            On a bad name.
        NotFoundError
            If there is no such snippet.
        PermissionDeniedError
            If the actor may not change this snippet.
        """
        validate_name(name)

        async def operation() -> SnippetDeletion:
            current = await self._locked(await self._existing(guild_id, name))
            _require_may_change(current, actor_id, is_moderator=is_moderator)
            aliases = (
                []
                if current.alias is not None
                else await self._snippets.aliases_of(guild_id, current.snippet_name)
            )
            await self._snippets.delete(current.snippet_id)
            for alias in aliases:
                await self._snippets.delete(alias.snippet_id)
            return SnippetDeletion(
                name=current.snippet_name,
                aliases_removed=tuple(alias.snippet_name for alias in aliases),
            )

        return await self._transactions.execute_in_transaction(operation, name="snippets.delete")

    async def set_locked(self, guild_id: int, name: str, locked: bool) -> Snippet:
        """Lock or unlock snippet ``name`` (the cog checks the moderator's rank).

        Raises
        ------
        ValidationError
            On a bad name or a non-boolean ``locked``.
        NotFoundError
            If there is no such snippet.
        """
        validate_name(name)
        if not isinstance(locked, bool):
            raise ValidationError(f"locked: expected True or False, got {type(locked).__name__}")

        async def operation() -> Snippet:
            snippet = await self._existing(guild_id, name)
            changed = await self._snippets.update(snippet.snippet_id, {"locked": locked})
            if changed is None:
                raise _missing(guild_id, name)
            return changed

        return await self._transactions.execute_in_transaction(operation, name="snippets.set_locked")

    async def _require_not_banned(self, guild_id: int, member_id: int) -> None:
        status = await self._member_status.get_status(guild_id, member_id)
        if status is not None and status.is_snippet_banned:
            raise _refused(f"member {member_id} is snippet-banned in guild {guild_id}")

    async def _require_free(self, guild_id: int, name: str) -> None:
        if await self._snippets.find_by_name(guild_id, name) is not None:
            raise _name_taken(guild_id, name)

    async def _existing(self, guild_id: int, name: str) -> Snippet:
        snippet = await self._snippets.find_by_name(guild_id, name)
        if snippet is None:
            raise _missing(guild_id, name)
        return snippet

    async def _locked(self, snippet: Snippet) -> Snippet:
        """Return ``snippet`` re-read under its row's write lock, held until the transaction ends.

        The interfaces offer no ``SELECT ... FOR UPDATE``, so this writes back the never-changing
        ``alias`` column: on PostgreSQL the ``UPDATE ... RETURNING`` waits for a concurrent writer of the
        row and returns the row as it committed (SQLite has one writer at a time anyway).

        Raises
        ------
        NotFoundError
            If the row was deleted meanwhile.
        """
        current = await self._snippets.update(snippet.snippet_id, {"alias": snippet.alias})
        if current is None:
            raise _missing(snippet.guild_id, snippet.snippet_name)
        return current

    async def _attach_alias(self, guild_id: int, name: str, target: Snippet, author_id: int) -> Snippet:
        """Insert alias ``name`` of ``target`` while holding ``target``'s lock (see the module doc)."""
        locked_target = await self._locked(target)
        return await self._snippets.create(
            {
                "guild_id": guild_id,
                "snippet_name": name,
                "alias": locked_target.snippet_name,
                "snippet_user_id": author_id,
            }
        )


def _require_may_change(snippet: Snippet, actor_id: int, *, is_moderator: bool) -> None:
    """Refuse a non-moderator changing a locked snippet or someone else's snippet."""
    if is_moderator:
        return
    if snippet.locked:
        raise _refused(f"snippet {snippet.snippet_name!r} is locked; only moderators can change it")
    if snippet.snippet_user_id != actor_id:
        raise _refused(f"snippet {snippet.snippet_name!r} belongs to another member")
