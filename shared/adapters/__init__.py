"""Adapters from the ports to the Azure SDK clients. Built only by ``shared.bootstrap``."""
