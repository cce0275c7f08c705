"""Protocol-faithful local stand-ins for managed identity, Key Vault and Logs Ingestion.

The real Azure SDK clients talk to them unchanged; see :class:`EmulatorStack`. The
``/_emulator/`` admin routes on each server take no authentication: loopback only.
"""

from __future__ import annotations

from local.emulators.faults import Fault, FaultPlan
from local.emulators.identity import IdentityEmulator
from local.emulators.ingestion import IngestionEmulator
from local.emulators.ingestion_store import IngestionError, IngestionStore, StoredRow
from local.emulators.keyvault import KeyVaultEmulator
from local.emulators.stack import EmulatorStack

__all__ = [
    "EmulatorStack",
    "Fault",
    "FaultPlan",
    "IdentityEmulator",
    "IngestionEmulator",
    "IngestionError",
    "IngestionStore",
    "KeyVaultEmulator",
    "StoredRow",
]
