"""The storage side of the retry path, built from the settings: queue, spill, dead letters,
and the host's poison queue, all on the Functions host's own storage account.

``shared.bootstrap`` builds this once per process; tests build it on Azurite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.adapters.deadletters import BlobDeadLetters
from shared.adapters.poison import PoisonQueue, build_poison_queue
from shared.adapters.storage import (
    BlobSpill,
    StorageRetryQueue,
    build_dead_letters,
    build_retry_queue,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from shared.config.settings import Settings


@dataclass(frozen=True)
class RetryStorage:
    """The storage side of the retry path."""

    queue: StorageRetryQueue
    dead_letters: BlobDeadLetters
    poison: PoisonQueue

    @property
    def spill(self) -> BlobSpill:
        """The spill container the queue writes to and the worker reads from."""
        return self.queue.spill


def build_retry_storage(settings: Settings, credential: TokenCredential | None) -> RetryStorage:
    """The queue, spill, dead letters and poison queue on the host's storage account."""
    connection = settings.storage
    queue = build_retry_queue(
        connection,
        credential,
        queue_name=settings.retry_queue_name,
        spill_container=settings.retry_spill_container,
    )
    dead_letters = build_dead_letters(
        connection, credential, container=settings.dead_letter_container
    )
    poison = build_poison_queue(connection, credential, retry=queue, dead_letters=dead_letters)
    return RetryStorage(queue, dead_letters, poison)
