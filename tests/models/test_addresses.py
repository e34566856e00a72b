"""Addresses every channel can carry, text made safe for headers, secrets kept out of what is stored."""

from __future__ import annotations

import pytest

from models.addresses import deliverable_address, header_text, mailbox, redact, redact_url


@pytest.mark.parametrize("address", ["d.hochart@ccpl.example.org", "jean-marc.lefebvre+cerdd@arras.example.org",
                                     "A.B@Example.ORG"])
def test_ordinary_addresses_are_kept_as_stored(address: str) -> None:
    assert deliverable_address(address) == address


def test_an_accented_domain_is_carried_in_ascii() -> None:
    assert deliverable_address("contact@mairie-liévin.example.org") == "contact@xn--mairie-livin-jeb.example.org"


@pytest.mark.parametrize(("address", "why"), [
    ("josé@example.org", "accentués"),
    ("dupont@example.org\r\nBcc: x@elsewhere.example.org", "contrôle"),
    ("dupont@example.org\n", "contrôle"),
    ('"Doc" <someone@elsewhere.example.org>', "espace"),
    ("someone@elsewhere.example.org,dupont@example.org", "virgule"),
    ("a@b@example.org", "exactement un"),
    ("dupont@localhost", "domaine"),
    ("@example.org", "avant et après"),
    ("", "contrôle"),
])
def test_addresses_no_channel_can_carry_are_refused_in_french(address: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        deliverable_address(address)


def test_a_hostile_name_stays_a_name_and_one_line() -> None:
    box = mailbox('Dupont "Doc" <someone@elsewhere.example.org>', "dupont@ccpl.example.org")
    assert box.addr_spec == "dupont@ccpl.example.org"
    assert box.display_name == 'Dupont "Doc" <someone@elsewhere.example.org>'
    assert header_text("Martin\r\nBcc: evil@elsewhere.example.org\x00") == "Martin Bcc: evil@elsewhere.example.org"


def test_credentials_are_stripped_from_urls_and_text() -> None:
    url = "https://transitions:mot-de-passe@hooks.example.org:8443/avis?token=abc123&lot=2"
    assert redact_url(url) == "https://hooks.example.org:8443/avis?token=***&lot=2"
    text = f"le webhook {url} a répondu 503 ; secret s3cret"
    cleaned = redact(text, "s3cret")
    assert "mot-de-passe" not in cleaned and "abc123" not in cleaned and "s3cret" not in cleaned
    assert "hooks.example.org:8443/avis" in cleaned
