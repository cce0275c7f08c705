"""Checks on infra/: Bicep syntax, checkov, and consistency with the code and schemas."""
