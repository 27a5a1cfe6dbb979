"""RepositoryRegistry: one implementation per interface, clear errors otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConfigurationError, RepositoryNotRegisteredError
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.interfaces import ICaseRepository, IGuildRepository, ISnippetRepository
from tux.database.repositories.registry import RepositoryRegistry


def test_register_and_get(client: DatabaseClient) -> None:
    registry = RepositoryRegistry()
    cases = CaseRepository(client.sessions)
    registry.register_repository(ICaseRepository, cases)
    assert registry.get_repository(ICaseRepository) is cases
    assert ICaseRepository in registry
    assert len(registry) == 1


def test_unregistered_interface_is_a_clear_error(client: DatabaseClient) -> None:
    registry = RepositoryRegistry()
    registry.register_repository(ICaseRepository, CaseRepository(client.sessions))
    expected = r"ISnippetRepository.*registered: ICaseRepository"
    with pytest.raises(RepositoryNotRegisteredError, match=expected):
        registry.get_repository(ISnippetRepository)


def test_implementation_must_implement_the_interface(client: DatabaseClient) -> None:
    registry = RepositoryRegistry()
    wrong: Any = GuildRepository(client.sessions)
    with pytest.raises(ConfigurationError, match="does not implement ICaseRepository"):
        registry.register_repository(ICaseRepository, wrong)


def test_wrapper_is_applied_once_at_registration(client: DatabaseClient) -> None:
    wrapped: list[type[Any]] = []

    def wrapper(interface: type[Any], repository: Any) -> Any:
        wrapped.append(interface)
        return repository

    registry = RepositoryRegistry(wrapper)
    registry.register_repository(IGuildRepository, GuildRepository(client.sessions))
    for _ in range(3):
        registry.get_repository(IGuildRepository)
    assert wrapped == [IGuildRepository]
