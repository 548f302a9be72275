"""Throwaway certificates for the MLLP door over TLS, made with ``cryptography``: the CA that
signs the hospitals' client certificates, the gateway's server certificate (127.0.0.1), a
hospital's client certificate, and a stranger's, signed by a CA of its own."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    ca: Path
    """The CA of the hospitals' client certificates, which also signed the server's."""
    server: Issued
    hospital: Issued
    """Client certificate of CN ``sio.asst-vimercate.example``."""
    stranger: Issued
    """Client certificate of the same CN, signed by another CA."""
    unmapped: Issued
    """Client certificate signed by the hospitals' CA, of a CN no hospital is mapped to."""

    def client(self, who: Issued | None) -> ssl.SSLContext:
        """A client context trusting the gateway's CA, presenting ``who`` (or no certificate)."""
        context = ssl.create_default_context(cafile=self.ca)
        if who is not None:
            context.load_cert_chain(who.cert, who.key)
        return context


HOSPITAL_CN = "sio.asst-vimercate.example"
UNMAPPED_CN = "sio.somewhere-else.example"


def make_pki(directory: Path) -> Pki:
    ca_key, ca_cert = _authority("Cerniera test hospitals CA")
    other_key, other_cert = _authority("Somebody else's CA")
    server = _issue(directory, "server", "127.0.0.1", ca_key, ca_cert, server=True)
    hospital = _issue(directory, "hospital", HOSPITAL_CN, ca_key, ca_cert, server=False)
    stranger = _issue(directory, "stranger", HOSPITAL_CN, other_key, other_cert, server=False)
    unmapped = _issue(directory, "unmapped", UNMAPPED_CN, ca_key, ca_cert, server=False)
    ca = directory / "ca.pem"
    ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return Pki(ca, server, hospital, stranger, unmapped)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, key: Key) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def _authority(common_name: str) -> tuple[Key, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(common_name, _name(common_name), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _issue(
    directory: Path,
    stem: str,
    common_name: str,
    ca_key: Key,
    ca_cert: x509.Certificate,
    *,
    server: bool,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = (
        [x509.IPAddress(ipaddress.ip_address(common_name))]
        if server
        else [x509.DNSName(common_name)]
    )
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    cert = (
        _builder(common_name, ca_cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    issued = Issued(directory / f"{stem}.pem", directory / f"{stem}.key")
    issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    issued.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return issued
