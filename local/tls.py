"""Throwaway TLS material for the local emulators.

A fresh CA is made per run with trustme; the server certificate is valid for ``localhost``
and ``127.0.0.1``. The app under test trusts the CA through ``REQUESTS_CA_BUNDLE`` (honoured
by azure-core's requests transport); in-process tests pass ``connection_verify=str(ca_path)``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

SERVER_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class CertPaths:
    """Where the PEM files of one throwaway CA and its server certificate live."""

    ca_path: Path
    cert_path: Path
    key_path: Path


def make_certs(directory: Path) -> CertPaths:
    """Create a throwaway CA and a server certificate for localhost and 127.0.0.1.

    Args:
        directory: Where to write ``ca.pem``, ``server.pem`` (chain) and ``server-key.pem``.
            Created if missing.

    Returns:
        The paths of the three PEM files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="sentinel-bridge local CA")
    server_cert = authority.issue_cert(*SERVER_NAMES)
    paths = CertPaths(
        ca_path=directory / "ca.pem",
        cert_path=directory / "server.pem",
        key_path=directory / "server-key.pem",
    )
    authority.cert_pem.write_to_path(str(paths.ca_path))
    # The chain file holds the leaf first, then any intermediates, as servers expect.
    with paths.cert_path.open("wb") as chain_file:
        for blob in server_cert.cert_chain_pems:
            chain_file.write(blob.bytes())
    server_cert.private_key_pem.write_to_path(str(paths.key_path))
    paths.key_path.chmod(0o600)
    return paths


def server_ssl_context(paths: CertPaths) -> ssl.SSLContext:
    """Build a TLS 1.2+ server context from the certificate made by :func:`make_certs`.

    Args:
        paths: The PEM files to serve.

    Returns:
        A server-side ``ssl.SSLContext``.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # The real endpoints require TLS 1.2 or newer (Logs Ingestion from 2026-03-01).
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=str(paths.cert_path), keyfile=str(paths.key_path))
    return context
