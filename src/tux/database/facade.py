"""``Database``: the one object a bot creates per process, holding everything else.

>>> async with Database() as db:          # SQLite file under ./data, no services needed
...     await db.migrate()
...     total = await db.levels.add_xp(guild_id=1, member_id=2, amount=10)

Hot lookups go through ``db.cache`` (memory, and Redis when ``redis_url`` is set): the registry wraps
the repositories that declare a cache seam (:mod:`tux.database.repositories.cached`), and the services are
built on the wrapped ones, so their writes invalidate too. Without Redis the cache is in-process only
and assumes one process per database; run several processes against one database only with Redis.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from tux.database.caching import CacheConfig, CacheManager
from tux.database.core.client import DatabaseClient
from tux.database.core.session import UnitOfWork
from tux.database.exceptions import ConfigurationError, ValidationError
from tux.database.optimization.connection import ConnectionPoolOptimizer
from tux.database.optimization.export import build_query_optimizer
from tux.database.repositories.afk import AfkRepository
from tux.database.repositories.audit_log import AuditLogRepository
from tux.database.repositories.cached import CacheWrapper
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.guild_config import GuildConfigRepository
from tux.database.repositories.interfaces import (
    IAfkRepository,
    IAuditLogRepository,
    ICaseRepository,
    IGuildConfigRepository,
    IGuildRepository,
    ILevelsActivityRepository,
    ILevelsConfigRepository,
    ILevelsRepository,
    IMemberStatusRepository,
    IPermissionRankRepository,
    IReminderRepository,
    ISnippetRepository,
    IStarboardMessageRepository,
    IStarboardRepository,
)
from tux.database.repositories.levels import LevelsRepository
from tux.database.repositories.levels_activity import LevelsActivityRepository
from tux.database.repositories.levels_config import LevelsConfigRepository
from tux.database.repositories.member_status import MemberStatusRepository
from tux.database.repositories.permissions import PermissionRankRepository
from tux.database.repositories.registry import RepositoryRegistry
from tux.database.repositories.reminders import ReminderRepository
from tux.database.repositories.snippets import SnippetRepository
from tux.database.repositories.starboard import StarboardMessageRepository, StarboardRepository
from tux.database.settings import DatabaseSettings
from tux.database.transactions.patterns import IsolationLevel, TransactionManager

if TYPE_CHECKING:
    from tux.database.controllers import DatabaseController
    from tux.database.operations.batch import BatchOperationManager
    from tux.database.optimization.indexes import IndexOptimizer
    from tux.database.services.afk import AfkService
    from tux.database.services.guild_setup import GuildSetupService
    from tux.database.services.levels import LevelsService
    from tux.database.services.moderation import ModerationService
    from tux.database.services.reminders import ReminderService
    from tux.database.services.snippets import SnippetService


def build_settings(
    database_url: str | None, redis_url: str | None, overrides: dict[str, Any]
) -> DatabaseSettings:
    """Return settings from the environment with the explicit arguments applied on top."""
    unknown = set(overrides) - set(DatabaseSettings.model_fields)
    if unknown:
        raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values = dict(overrides)
    if database_url is not None:
        values["database_url"] = database_url
    if redis_url is not None:
        values["redis_url"] = redis_url
    return DatabaseSettings(**values)


def build_cache(settings: DatabaseSettings, client: DatabaseClient) -> CacheManager:
    """Return the cache ``settings`` describe: Redis URL, namespace, ``cache_enabled`` and tuning.

    ``cache_policies`` overrides per-type policies and ``cache_options`` any :class:`CacheConfig` field.
    The DATABASE level uses ``client``'s engine (the ``cache_entry`` table of the same database).
    """
    try:
        config = CacheConfig.from_settings(settings, settings.cache_policies, **settings.cache_options)
    except (TypeError, ValidationError) as error:
        raise ConfigurationError(f"invalid cache setting: {error}") from None
    return CacheManager.from_settings(settings, config=config, engine=client.engine, sessions=client.sessions)


class Database:
    """The data layer of one bot process: client, registry, repositories and transactions.

    Parameters
    ----------
    database_url
        SQLAlchemy URL; defaults to ``TUX_DB_DATABASE_URL`` or a SQLite file under the data directory.
    redis_url
        Redis URL for the shared cache level; defaults to ``TUX_DB_REDIS_URL`` or none.
    **overrides
        Any other :class:`DatabaseSettings` field; ``cache_enabled=False`` turns every cache level off.
    """

    def __init__(
        self, database_url: str | None = None, redis_url: str | None = None, **overrides: Any
    ) -> None:
        self.settings = build_settings(database_url, redis_url, overrides)
        self.client = DatabaseClient(self.settings)
        self.query_optimizer = build_query_optimizer(self.settings, self.client)
        self.cache = build_cache(self.settings, self.client)
        self.registry = RepositoryRegistry(
            CacheWrapper(self.cache, self.client.sessions) if self.cache.enabled else None
        )
        self.transactions = TransactionManager(self.client.sessions)
        self._register_repositories()
        self.guilds = self.registry.get_repository(IGuildRepository)
        self.guild_configs = self.registry.get_repository(IGuildConfigRepository)
        self.cases = self.registry.get_repository(ICaseRepository)
        self.member_status = self.registry.get_repository(IMemberStatusRepository)
        self.audit_log = self.registry.get_repository(IAuditLogRepository)
        self.permissions = self.registry.get_repository(IPermissionRankRepository)
        self.snippets = self.registry.get_repository(ISnippetRepository)
        self.levels = self.registry.get_repository(ILevelsRepository)
        self.levels_config = self.registry.get_repository(ILevelsConfigRepository)
        self.afk = self.registry.get_repository(IAfkRepository)
        self.reminders = self.registry.get_repository(IReminderRepository)
        self.starboards = self.registry.get_repository(IStarboardRepository)
        self.starboard_messages = self.registry.get_repository(IStarboardMessageRepository)
        self.pool_optimizer = (
            ConnectionPoolOptimizer(self.client) if self.settings.pool_monitor_enabled else None
        )

    def __repr__(self) -> str:
        return f"Database(url={self.client.safe_url!r})"

    def _register_repositories(self) -> None:
        sessions = self.client.sessions
        register = self.registry.register_repository
        register(IGuildRepository, GuildRepository(sessions))
        register(IGuildConfigRepository, GuildConfigRepository(sessions))
        register(ICaseRepository, CaseRepository(sessions))
        register(IMemberStatusRepository, MemberStatusRepository(sessions))
        register(IAuditLogRepository, AuditLogRepository(sessions))
        register(IPermissionRankRepository, PermissionRankRepository(sessions))
        register(ISnippetRepository, SnippetRepository(sessions))
        register(ILevelsRepository, LevelsRepository(sessions))
        register(ILevelsConfigRepository, LevelsConfigRepository(sessions))
        register(IAfkRepository, AfkRepository(sessions))
        register(IReminderRepository, ReminderRepository(sessions))
        register(IStarboardRepository, StarboardRepository(sessions))
        register(IStarboardMessageRepository, StarboardMessageRepository(sessions))
        register(ILevelsActivityRepository, LevelsActivityRepository(sessions))

    # The services are built on first use: a bot that never moderates never loads the moderation rules.

    @cached_property
    def moderation_service(self) -> ModerationService:
        """Cases, with the member status and audit entries each one implies."""
        from tux.database.services.moderation import ModerationService  # noqa: PLC0415 - built on first use

        return ModerationService(
            self.transactions, cases=self.cases, member_status=self.member_status, audit_log=self.audit_log
        )

    @cached_property
    def snippet_service(self) -> SnippetService:
        """Snippets, with the snippet bans and the guild row they need."""
        from tux.database.services.snippets import SnippetService  # noqa: PLC0415 - built on first use

        return SnippetService(
            self.transactions, snippets=self.snippets, member_status=self.member_status, guilds=self.guilds
        )

    @cached_property
    def levels_service(self) -> LevelsService:
        """XP awards, levels and role rewards."""
        from tux.database.services.levels import LevelsService  # noqa: PLC0415 - built on first use

        return LevelsService(
            self.transactions,
            levels=self.levels,
            levels_config=self.levels_config,
            activity=self.registry.get_repository(ILevelsActivityRepository),
        )

    @cached_property
    def guild_setup_service(self) -> GuildSetupService:
        """A guild's onboarding: its row, its config and its permission ranks."""
        from tux.database.services.guild_setup import GuildSetupService  # noqa: PLC0415 - built on first use

        return GuildSetupService(
            self.transactions,
            guilds=self.guilds,
            guild_configs=self.guild_configs,
            permissions=self.permissions,
        )

    @cached_property
    def afk_service(self) -> AfkService:
        """AFK status of members."""
        from tux.database.services.afk import AfkService  # noqa: PLC0415 - built on first use

        return AfkService(self.transactions, afk=self.afk)

    @cached_property
    def reminder_service(self) -> ReminderService:
        """Reminders and their delivery."""
        from tux.database.services.reminders import ReminderService  # noqa: PLC0415 - built on first use

        return ReminderService(self.transactions, reminders=self.reminders, guilds=self.guilds)

    @property
    def moderation(self) -> ModerationService:
        """``moderation_service`` by its name before the ``<domain>_service`` rule, kept for callers."""
        return self.moderation_service

    @property
    def guild_setup(self) -> GuildSetupService:
        """``guild_setup_service`` by its name before the ``<domain>_service`` rule, kept for callers."""
        return self.guild_setup_service

    @cached_property
    def index_optimizer(self) -> IndexOptimizer:
        """Planner-checked index advice on what ``query_optimizer`` observed (built on first use)."""
        from tux.database.optimization.indexes import IndexOptimizer  # noqa: PLC0415 - advice is occasional

        return IndexOptimizer(self.client, self.query_optimizer)

    @cached_property
    def batch(self) -> BatchOperationManager:
        """Bulk writes through any repository (built on first use)."""
        from tux.database.operations.batch import BatchOperationManager  # noqa: PLC0415 - bulk loads are rare

        return BatchOperationManager(self.client, cache=self.cache, transactions=self.transactions)

    @cached_property
    def controller(self) -> DatabaseController:
        """Tux's legacy controller API over this ``Database`` (one instance, built on first use)."""
        from tux.database.controllers import DatabaseController  # noqa: PLC0415 - legacy API, loaded on use

        return DatabaseController(self)

    def transaction(
        self,
        name: str = "transaction",
        *,
        isolation_level: IsolationLevel | None = None,
        read_only: bool = False,
        lock_timeout: float | None = None,
        statement_timeout: float | None = None,
    ) -> AbstractAsyncContextManager[UnitOfWork]:
        """Open a unit of work (``async with db.transaction(): ...``); see :class:`TransactionManager`."""
        return self.transactions.transaction(
            name,
            isolation_level=isolation_level,
            read_only=read_only,
            lock_timeout=lock_timeout,
            statement_timeout=statement_timeout,
        )

    async def connect(self) -> None:
        """Check the database answers and start the cache (a Redis that does not answer is no error)."""
        await self.client.connect()
        await self.cache.start(ready_within=self.settings.cache_ready_timeout)

    async def close(self) -> None:
        """Stop the cache and release every connection."""
        try:
            await self.cache.close()
        finally:
            await self.client.close()

    async def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision`` with the packaged alembic migrations."""
        from tux.database.migrations import runner  # noqa: PLC0415 - alembic only when migrating

        await runner.upgrade(self.client.engine, revision)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
