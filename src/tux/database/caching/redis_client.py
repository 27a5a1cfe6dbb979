"""The cache's own Redis client: the few commands the Redis level and the bus send, and nothing else.

redis-py's asyncio client loads its synchronous client, cluster and sentinel support and every command
mixin with it, about 6 MiB of a bot's resident memory for the dozen commands the cache sends (``MGET``,
``EVALSHA``, ``DEL``, ``PUBLISH``, ``PING`` and one subscription). This client speaks RESP2 over asyncio
streams and parses with hiredis (redis-py's own accelerator, a dependency through ``redis[hiredis]``),
the way redis-py's pool works: a command takes an idle connection or opens one, a connection that
failed, timed out or was cancelled mid-command is closed rather than reused, and an idle connection
the server closed is replaced before use. It makes no retries; the Redis level's circuit breaker
decides what a failure means. Scripts run by ``EVALSHA``, falling back to ``EVAL`` when the server does
not know them (after a restart); in a pipeline they run by ``EVAL``, so no reply can come back as an
unknown script between two queued commands.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

from tux.database.exceptions import ConfigurationError

Arg = bytes | str | int | float
READ_SIZE = 65_536


class RedisError(Exception):
    """Anything that went wrong talking to Redis."""


class ResponseError(RedisError):
    """An error reply from the server (its first word is the error code, e.g. ``NOSCRIPT``)."""


class RedisConnectionError(RedisError):
    """The server closed the connection or answered out of protocol."""


def _encode(arg: Arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    return repr(arg).encode() if isinstance(arg, float) else str(arg).encode()


def pack(command: Sequence[Arg]) -> bytes:
    """Return ``command`` as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(command)]
    for arg in command:
        data = _encode(arg)
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Address:
    """Where Redis is and how to log in, from a ``redis://``, ``rediss://`` or ``unix://`` URL."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    db: int = 0

    @classmethod
    def from_url(cls, url: str) -> Address:
        """Parse ``url``; only ``db`` is accepted as a query option."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ConfigurationError(f"Redis URL scheme must be redis, rediss or unix, not {parts.scheme!r}")
        query = parse_qs(parts.query)
        unknown = set(query) - {"db"}
        if unknown:
            raise ConfigurationError(f"unsupported Redis URL option(s): {', '.join(sorted(unknown))}")
        db = query["db"][0] if "db" in query else ""
        if parts.scheme != "unix":
            db = db or parts.path.strip("/")
        if db and not db.isdigit():
            raise ConfigurationError("the Redis database in the URL must be a number")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            path=parts.path if parts.scheme == "unix" else None,
            tls=parts.scheme == "rediss",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            db=int(db or 0),
        )


class Connection:
    """One connection: requests are written whole, replies parsed as they arrive."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._parser = hiredis.Reader(replyError=ResponseError, protocolError=RedisConnectionError)

    @property
    def usable(self) -> bool:
        """Whether the connection is open, the server has not closed its side and nothing is unread."""
        return not (self._writer.is_closing() or self._reader.at_eof() or self._parser.has_data())

    async def send(self, data: bytes) -> None:
        """Write ``data`` and wait until the transport has taken it."""
        self._writer.write(data)
        await self._writer.drain()

    async def reply(self) -> Any:
        """Return the next reply; an error reply is returned as a :class:`ResponseError`, not raised."""
        while (reply := self._parser.gets()) is False:
            data = await self._reader.read(READ_SIZE)
            if not data:
                raise RedisConnectionError("Redis closed the connection")
            self._parser.feed(data)
        return reply

    def close(self) -> None:
        """Close the transport (no goodbye: the server notices the close)."""
        self._writer.close()


def _raised(reply: Any) -> Any:
    if isinstance(reply, ResponseError):
        raise reply
    return reply


class RedisClient:
    """A pool of connections to one Redis server.

    Parameters
    ----------
    address
        Server, credentials and database.
    socket_timeout
        Seconds a command may take, from sending it to its last reply.
    connect_timeout
        Seconds opening a connection (and logging in) may take.
    """

    def __init__(self, address: Address, *, socket_timeout: float, connect_timeout: float) -> None:
        self._address = address
        self.timeout = socket_timeout
        self._connect_timeout = connect_timeout
        self._idle: list[Connection] = []
        self._open: set[Connection] = set()

    @classmethod
    def from_url(cls, url: str, *, socket_timeout: float, connect_timeout: float) -> RedisClient:
        """Return a client for the server ``url`` names (no connection is opened yet)."""
        return cls(Address.from_url(url), socket_timeout=socket_timeout, connect_timeout=connect_timeout)

    async def connect(self) -> Connection:
        """Open a new connection, logged in and on the configured database."""
        address = self._address
        async with asyncio.timeout(self._connect_timeout):
            if address.path is not None:
                reader, writer = await asyncio.open_unix_connection(address.path)
            else:
                context = ssl.create_default_context() if address.tls else None
                reader, writer = await asyncio.open_connection(address.host, address.port, ssl=context)
            connection = Connection(reader, writer)
            self._open.add(connection)
            try:
                login: list[list[Arg]] = []
                if address.password is not None:
                    user = [address.username] if address.username is not None else []
                    login.append(["AUTH", *user, address.password])
                if address.db:
                    login.append(["SELECT", address.db])
                if login:
                    await connection.send(b"".join(pack(command) for command in login))
                    for _ in login:
                        _raised(await connection.reply())
            except BaseException:
                self.discard(connection)
                raise
        return connection

    def discard(self, connection: Connection) -> None:
        """Close ``connection`` for good."""
        self._open.discard(connection)
        connection.close()

    async def execute(self, commands: Sequence[Sequence[Arg]]) -> list[Any]:
        """Send ``commands`` in one write and return their replies (error replies as exceptions)."""
        idle = self._idle
        while idle and not idle[-1].usable:
            self.discard(idle.pop())
        connection = idle.pop() if idle else await self.connect()
        try:
            async with asyncio.timeout(self.timeout):
                await connection.send(b"".join(pack(command) for command in commands))
                replies = [await connection.reply() for _ in commands]
        except BaseException:  # the replies may be out of step with the requests now
            self.discard(connection)
            raise
        if connection in self._open:
            idle.append(connection)
        return replies

    async def command(self, *args: Arg) -> Any:
        """Send one command and return its reply; an error reply is raised."""
        (reply,) = await self.execute([args])
        return _raised(reply)

    async def mget(self, keys: Sequence[bytes | str]) -> list[bytes | None]:
        """Return the values of ``keys`` (``None`` where there is none)."""
        values: list[bytes | None] = await self.command("MGET", *keys)
        return values

    async def ping(self) -> None:
        """Raise unless the server answers."""
        await self.command("PING")

    def register_script(self, source: str) -> Script:
        """Return ``source`` as a script to run with ``await script(keys=..., args=...)``."""
        return Script(self, source)

    def pipeline(self) -> Pipeline:
        """Return a pipeline: commands queued, then sent together by :meth:`Pipeline.execute`."""
        return Pipeline(self)

    def pubsub(self) -> PubSub:
        """Return a subscription on a connection of its own."""
        return PubSub(self)

    async def aclose(self) -> None:
        """Close every connection, idle or in use (a command in flight then fails)."""
        self._idle.clear()
        for connection in list(self._open):
            self.discard(connection)


class Script:
    """A Lua script, run by its SHA1 once the server knows it."""

    def __init__(self, client: RedisClient, source: str) -> None:
        self._client = client
        self.source = source.encode()
        self.sha = hashlib.sha1(self.source, usedforsecurity=False).hexdigest()

    async def __call__(
        self, *, keys: Sequence[bytes | str], args: Sequence[Arg], client: Pipeline | None = None
    ) -> Any:
        """Run the script (queue it, with ``client=pipeline``; the pipeline returns its reply)."""
        if client is not None:
            client.queue("EVAL", self.source, len(keys), *keys, *args)
            return None
        try:
            return await self._client.command("EVALSHA", self.sha, len(keys), *keys, *args)
        except ResponseError as error:
            if not str(error).startswith("NOSCRIPT"):
                raise
        return await self._client.command("EVAL", self.source, len(keys), *keys, *args)


class Pipeline:
    """Commands sent in one write, without a transaction; the first error reply is raised."""

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._commands: list[tuple[Arg, ...]] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._commands.clear()

    def queue(self, *args: Arg) -> None:
        """Add a command."""
        self._commands.append(args)

    def delete(self, *names: bytes | str) -> None:
        """Queue a ``DEL``."""
        self.queue("DEL", *names)

    def publish(self, channel: bytes | str, message: bytes) -> None:
        """Queue a ``PUBLISH``."""
        self.queue("PUBLISH", channel, message)

    async def execute(self) -> list[Any]:
        """Send the queued commands and return their replies; raise the first error reply."""
        commands, self._commands = self._commands, []
        replies = await self._client.execute(commands)
        for reply in replies:
            _raised(reply)
        return replies


class PubSub:
    """A subscription; messages come as ``{"type", "channel", "data"}`` like redis-py's."""

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._connection: Connection | None = None

    async def _send(self, *args: Arg) -> None:
        if self._connection is None:
            self._connection = await self._client.connect()
        async with asyncio.timeout(self._client.timeout):
            await self._connection.send(pack(args))

    async def subscribe(self, channel: str) -> None:
        """Subscribe to ``channel`` (the confirmation comes as a ``subscribe`` message)."""
        await self._send("SUBSCRIBE", channel)

    async def ping(self) -> None:
        """Ask the server for a ``pong`` message."""
        await self._send("PING")

    async def get_message(self, *, within: float) -> dict[str, Any] | None:
        """Return the next message, or ``None`` when none came ``within`` seconds."""
        if self._connection is None:
            raise RedisConnectionError("not subscribed")
        try:
            async with asyncio.timeout(within):
                reply = _raised(await self._connection.reply())
        except TimeoutError:
            return None
        kind, channel, data = reply if len(reply) == 3 else (*reply, None)
        return {"type": kind.decode(), "pattern": None, "channel": channel, "data": data}

    async def aclose(self) -> None:
        """Close the subscription's connection."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._client.discard(connection)
