"""The incident domain, pure: no SDK, no adapter, no I/O (tests/unit/incidents/)."""
