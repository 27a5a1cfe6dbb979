"""The ext tests spawn cluster processes with the caching tests' process fixture."""

from tests.caching.conftest import spawn

__all__ = ["spawn"]
