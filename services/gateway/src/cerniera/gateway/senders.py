"""Who may speak on the MLLP door: the TLS context that asks hospitals for their client
certificate, the hospital a certificate stands for, and whether a message's sending facility
(MSH-4) may speak on a connection.

With TLS, a client without a certificate signed by the hospitals' CA never gets past the
handshake; a certificate is the hospital that ``GATEWAY_CLIENT_CERTS`` maps its CN (or a
DNS/URI subject alternative name) to, and it may send only that hospital's messages. In plain
TCP (``MLLP_ALLOW_PLAINTEXT``), only MSH-4 says who speaks, and it must be a configured one.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cerniera.gateway.config import GatewaySettings
from cerniera.gateway.domain import configured_hospital


@dataclass(frozen=True)
class Peer:
    """The other end of one MLLP connection."""

    tls: bool = False
    hospital_id: str | None = None
    """The hospital its client certificate stands for; ``None`` in plain TCP, or for a
    certificate that stands for none."""


def server_context(settings: GatewaySettings) -> ssl.SSLContext | None:
    """The TLS context of the MLLP door (client certificate required), ``None`` without TLS."""
    cert, key, ca = settings.mllp_tls_cert, settings.mllp_tls_key, settings.mllp_tls_client_ca
    if cert is None or key is None or ca is None:  # all or none (settings)
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=ca)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def peer_of(ssl_object: ssl.SSLObject | None, certificates: Mapping[str, str]) -> Peer:
    """The peer of a connection, from its (verified) client certificate if TLS."""
    if ssl_object is None:
        return Peer()
    names = certificate_names(ssl_object.getpeercert() or {})
    hospitals = {certificates[name] for name in names if name in certificates}
    # Names standing for two hospitals would make the certificate ambiguous: it stands for none.
    return Peer(tls=True, hospital_id=hospitals.pop() if len(hospitals) == 1 else None)


def certificate_names(certificate: Mapping[str, Any]) -> Iterator[str]:
    """Its subject's common names, then its DNS and URI alternative names (``getpeercert()``
    form)."""
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                yield value
    for kind, value in certificate.get("subjectAltName", ()):
        if kind in ("DNS", "URI"):
            yield value


def admitted(peer: Peer, sending_facility: str, hospitals: Mapping[str, str]) -> str | None:
    """The hospital a message from ``sending_facility`` (MSH-4.1) speaks for on this
    connection, or ``None`` when it may not speak here: a sender not configured, a certificate
    that stands for no hospital, or one that stands for another."""
    hospital_id = configured_hospital(sending_facility, hospitals)
    if hospital_id is None or (peer.tls and peer.hospital_id != hospital_id):
        return None
    return hospital_id
