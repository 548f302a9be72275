"""Who may speak on the MLLP door: a certificate's names, the hospital it stands for, and
whether a sending facility may speak on a connection. Pure, no I/O."""

from __future__ import annotations

import ssl
from typing import Any, cast

from cerniera.gateway.senders import Peer, admitted, certificate_names, peer_of

HOSPITALS = {"ASST_VIMERCATE": "asst-vimercate", "HSG": "irccs-san-gerardo"}


def test_in_plain_tcp_a_configured_sender_speaks_for_its_hospital() -> None:
    assert admitted(Peer(), "ASST_VIMERCATE", HOSPITALS) == "asst-vimercate"
    assert admitted(Peer(), "asst_vimercate", HOSPITALS) == "asst-vimercate"  # case aside


def test_an_unconfigured_sender_speaks_for_nobody_even_if_its_code_looks_like_an_id() -> None:
    for facility in ("OSPEDALE_IGNOTO", "asst-vimercate", "", "irccs-san-gerardo"):
        assert admitted(Peer(), facility, HOSPITALS) is None


def test_over_tls_a_sender_speaks_only_for_its_certificate_s_hospital() -> None:
    vimercate = Peer(tls=True, hospital_id="asst-vimercate")
    assert admitted(vimercate, "ASST_VIMERCATE", HOSPITALS) == "asst-vimercate"
    assert admitted(vimercate, "HSG", HOSPITALS) is None
    assert admitted(vimercate, "OSPEDALE_IGNOTO", HOSPITALS) is None
    assert admitted(Peer(tls=True), "ASST_VIMERCATE", HOSPITALS) is None  # unmapped certificate


CERTIFICATE: dict[str, Any] = {  # as ssl.SSLObject.getpeercert() gives it
    "subject": ((("countryName", "IT"),), (("commonName", "sio.asst-vimercate.example"),)),
    "subjectAltName": (
        ("DNS", "adt.asst-vimercate.example"),
        ("URI", "urn:asst-vimercate:sio"),
        ("email", "sio@asst-vimercate.example"),
    ),
}


def test_a_certificate_is_named_by_its_cn_and_its_dns_and_uri_alternative_names() -> None:
    assert list(certificate_names(CERTIFICATE)) == [
        "sio.asst-vimercate.example",
        "adt.asst-vimercate.example",
        "urn:asst-vimercate:sio",
    ]


class _Tls:
    def __init__(self, certificate: dict[str, Any]) -> None:
        self.certificate = certificate

    def getpeercert(self) -> dict[str, Any]:
        return self.certificate


def tls(certificate: dict[str, Any]) -> ssl.SSLObject:
    """A TLS connection whose client presented ``certificate``."""
    return cast(ssl.SSLObject, _Tls(certificate))


def test_the_peer_is_the_hospital_one_of_its_names_is_mapped_to() -> None:
    by_san = {"adt.asst-vimercate.example": "asst-vimercate"}
    assert peer_of(tls(CERTIFICATE), by_san) == Peer(tls=True, hospital_id="asst-vimercate")
    assert peer_of(tls(CERTIFICATE), {}) == Peer(tls=True)
    assert peer_of(None, by_san) == Peer()


def test_a_certificate_whose_names_stand_for_two_hospitals_stands_for_none() -> None:
    both = {"sio.asst-vimercate.example": "asst-vimercate", "urn:asst-vimercate:sio": "x"}
    assert peer_of(tls(CERTIFICATE), both) == Peer(tls=True)
