"""``RepositoryRegistry``: one place that hands out each repository, one registry per ``Database``."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, cast

from tux.database.exceptions import ConfigurationError, RepositoryNotRegisteredError

T = TypeVar("T")


class RepositoryWrapper(Protocol):
    """Called as ``wrapper(interface, repository)`` when a repository is registered.

    It returns what to hand out, typed as the interface it wraps, so a cached repository is checked
    like the plain one.
    """

    def __call__(self, interface: type[T], repository: T, /) -> T:
        """Return ``repository``, or a wrapper of it that implements ``interface``."""
        ...


class RepositoryRegistry:
    """Maps repository interfaces to their (possibly cache-wrapped) implementations.

    Parameters
    ----------
    wrapper
        Applied once per registration, e.g. to put a cache in front of hot lookups. The registry never
        wraps per call, so ``get_repository`` is a dictionary lookup.
    """

    def __init__(self, wrapper: RepositoryWrapper | None = None) -> None:
        self._repositories: dict[type[Any], Any] = {}
        self._wrapper = wrapper

    def __contains__(self, interface: object) -> bool:
        return interface in self._repositories

    def __len__(self) -> int:
        return len(self._repositories)

    def interfaces(self) -> tuple[type, ...]:
        """Return the registered interfaces, in registration order."""
        return tuple(self._repositories)

    def register_repository(self, interface: type[T], implementation: T) -> None:
        """Register ``implementation`` as the repository for ``interface``.

        Raises
        ------
        ConfigurationError
            If ``implementation`` does not implement ``interface``.
        """
        if not isinstance(implementation, interface):
            raise ConfigurationError(
                f"{type(implementation).__name__} does not implement {interface.__name__}"
            )
        wrapped = self._wrapper(interface, implementation) if self._wrapper else implementation
        self._repositories[interface] = wrapped

    def get_repository(self, interface: type[T]) -> T:
        """Return the repository registered for ``interface``.

        Raises
        ------
        RepositoryNotRegisteredError
            If nothing was registered for ``interface``.
        """
        try:
            return cast("T", self._repositories[interface])
        except KeyError:
            name = getattr(interface, "__name__", repr(interface))
            raise RepositoryNotRegisteredError(
                f"no repository registered for {name}; registered: "
                f"{', '.join(sorted(i.__name__ for i in self._repositories)) or 'none'}"
            ) from None
