"""A local Azure Functions host for Python v2-model apps (HTTP, timer and queue triggers).

Run it with ``python -m local.host``; drive it from tests with
:class:`local.host.process.LocalHostProcess`. Each module's docstring says which real-host
semantics it reproduces and where it deliberately differs. Never deployed.
"""
