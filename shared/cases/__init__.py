"""Kibana cases <-> Sentinel incidents (Kibana's "Webhook - Case Management" connector).

``mapping`` (pure) reads the connector's bodies and shapes incidents; ``service`` runs the
create, get, update and comment calls on the ARM adapter, each safe to repeat; ``receive``
answers the HTTP calls; ``wiring`` builds what they need on first use.
"""
