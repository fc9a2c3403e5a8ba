"""Temporal over TLS, as on a cluster or Temporal Cloud: a test CA, a TLS endpoint on loopback, mTLS, clear errors."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError

from bot.embedded import DevServer
from bot.runtime import open_runtime
from core.errors import SchedulerUnavailable
from tests.conftest import make_settings
from tests.core.helpers import new_event
from tests.proxy import TcpProxy


@dataclass
class Issued:
    """A certificate and its key, written as PEM files."""

    cert: Path
    key: Path
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def _issue(
    directory: Path, name: str, *, ca: Issued | None = None, usage: x509.ObjectIdentifier | None = None
) -> Issued:
    """A CA (self-signed) when `ca` is None, otherwise a leaf for 127.0.0.1 and localhost signed by `ca`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject if ca else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )
    if ca is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([usage or ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    certificate = builder.sign(ca.private_key if ca else key, hashes.SHA256())
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Issued(cert=cert_path, key=key_path, certificate=certificate, private_key=key)


@dataclass
class Pki:
    ca: Issued
    other_ca: Issued
    server: Issued
    client: Issued


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A test CA with a server and a client certificate, and an unrelated CA."""
    ca = _issue(tmp_path, "ca")
    return Pki(
        ca=ca,
        other_ca=_issue(tmp_path, "other-ca"),
        server=_issue(tmp_path, "server", ca=ca),
        client=_issue(tmp_path, "client", ca=ca, usage=ExtendedKeyUsageOID.CLIENT_AUTH),
    )


def _server_context(pki: Pki, *, require_client_cert: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server.cert, pki.server.key)
    context.set_alpn_protocols(["h2"])  # gRPC runs over HTTP/2
    if require_client_cert:
        context.load_verify_locations(pki.ca.cert)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@pytest.fixture
async def tls_endpoint(pki: Pki, dev_server: DevServer) -> AsyncIterator[TcpProxy]:
    """A TLS endpoint on loopback (the test CA's server certificate) in front of the dev server."""
    proxy = await TcpProxy(dev_server.address, tls=_server_context(pki, require_client_cert=False)).start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def mtls_endpoint(pki: Pki, dev_server: DevServer) -> AsyncIterator[TcpProxy]:
    """The same, but it also requires a client certificate signed by the test CA."""
    proxy = await TcpProxy(dev_server.address, tls=_server_context(pki, require_client_cert=True)).start()
    yield proxy
    await proxy.stop()


async def test_workflows_start_over_tls_with_the_test_ca(
    tmp_path: Path, sqlite_url: str, pki: Pki, tls_endpoint: TcpProxy
) -> None:
    """With TEMPORAL_TLS_SERVER_CA set to the test CA, Soonish connects over TLS and starts an event's workflow."""
    settings = make_settings(tmp_path, sqlite_url, tls_endpoint.address, TEMPORAL_TLS_SERVER_CA=pki.ca.cert)
    async with open_runtime(settings) as rt:
        event = await new_event(rt)
        handle = rt.client.get_workflow_handle(f"{settings.instance}-event-{event.id}")
        assert (await handle.describe()).id == handle.id


async def test_a_wrong_ca_is_a_clear_error_naming_the_setting(
    tmp_path: Path, sqlite_url: str, pki: Pki, tls_endpoint: TcpProxy
) -> None:
    """A server certificate not signed by TEMPORAL_TLS_SERVER_CA fails at start with an error naming that setting."""
    settings = make_settings(tmp_path, sqlite_url, tls_endpoint.address, TEMPORAL_TLS_SERVER_CA=pki.other_ca.cert)
    with pytest.raises(SchedulerUnavailable) as caught:
        async with open_runtime(settings):
            pass
    assert caught.value.message.startswith(f"Cannot connect to Temporal at {tls_endpoint.address}")
    assert "TEMPORAL_TLS_SERVER_CA" in caught.value.message


async def test_mtls_connects_with_the_client_certificate(
    tmp_path: Path, sqlite_url: str, pki: Pki, mtls_endpoint: TcpProxy
) -> None:
    """A server that requires client certificates accepts the one in TEMPORAL_TLS_CLIENT_CERT and _KEY."""
    settings = make_settings(
        tmp_path,
        sqlite_url,
        mtls_endpoint.address,
        TEMPORAL_TLS_SERVER_CA=pki.ca.cert,
        TEMPORAL_TLS_CLIENT_CERT=pki.client.cert,
        TEMPORAL_TLS_CLIENT_KEY=pki.client.key,
    )
    async with open_runtime(settings) as rt:
        assert await rt.client.service_client.check_health()


async def test_mtls_without_a_client_certificate_names_the_settings(
    tmp_path: Path, sqlite_url: str, pki: Pki, mtls_endpoint: TcpProxy
) -> None:
    """Without a client certificate, a server that requires one gives an error naming TEMPORAL_TLS_CLIENT_CERT."""
    settings = make_settings(tmp_path, sqlite_url, mtls_endpoint.address, TEMPORAL_TLS_SERVER_CA=pki.ca.cert)
    with pytest.raises(SchedulerUnavailable, match="TEMPORAL_TLS_CLIENT_CERT"):
        async with open_runtime(settings):
            pass


def test_a_missing_certificate_file_is_refused_naming_the_setting(tmp_path: Path, sqlite_url: str) -> None:
    """TEMPORAL_TLS_SERVER_CA naming no file is a configuration error that names the setting."""
    with pytest.raises(ValidationError, match="TEMPORAL_TLS_SERVER_CA names"):
        make_settings(tmp_path, sqlite_url, "127.0.0.1:7233", TEMPORAL_TLS_SERVER_CA=tmp_path / "nope.pem")


def test_a_client_certificate_needs_its_key(tmp_path: Path, sqlite_url: str, pki: Pki) -> None:
    """TEMPORAL_TLS_CLIENT_CERT without TEMPORAL_TLS_CLIENT_KEY is refused, naming both."""
    with pytest.raises(ValidationError, match="TEMPORAL_TLS_CLIENT_CERT and TEMPORAL_TLS_CLIENT_KEY go together"):
        make_settings(tmp_path, sqlite_url, "127.0.0.1:7233", TEMPORAL_TLS_CLIENT_CERT=pki.client.cert)
