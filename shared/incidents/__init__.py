"""Sentinel incidents out to SIGNL4 and signed webhooks, and their status back.

Pure modules (no SDK, no I/O): ``config``, ``model``, ``query``, ``augment``, ``payloads``,
``merge``, ``breaker``, ``callback``, ``permissions``, ``state``. Services: ``poller``,
``forward``, ``tagging``, ``signl4_callback``, ``health_checks``. Adapter: ``table`` (the
poller's state in Table storage). Composition: ``wiring``. See docs/incidents.md.
"""
