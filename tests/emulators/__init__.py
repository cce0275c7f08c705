"""Tests of the local emulators, driven with the real Azure SDK clients."""
