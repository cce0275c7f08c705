"""The local Azure: TLS material, protocol emulators and runners. Never deployed."""
