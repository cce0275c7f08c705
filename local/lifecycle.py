"""A local service used as a ``with`` block: Azurite, the functions host, the emulator stack."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self


class Service(abc.ABC):
    """Something started and closed again; ``with`` closes it even when its start fails."""

    @abc.abstractmethod
    def start(self) -> Self:
        """Start, and return ``self`` once ready."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop and release what it holds; safe to call twice, and after a failed start."""

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            # __exit__ will not run: clean up here so no process or directory is left behind.
            self.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
