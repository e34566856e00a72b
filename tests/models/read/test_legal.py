"""The legal pages' read (`models.read.legal`), without HTTP: the publisher from the programme's
organiser, the host and address as given, the register of the programmes the portal serves."""

from __future__ import annotations

from models.db import session_scope
from models.read.legal import TO_COMPLETE, legal_pages


def test_the_publisher_is_the_organiser_and_the_register_its_programme(loaded: str) -> None:
    with session_scope(loaded) as session:
        pages = legal_pages(session, None, host="Hébergeur SA", address="Loos-en-Gohelle")
        named = legal_pages(session, "cerdd-2015", host="h", address="a")
    publisher = pages.publisher
    assert (publisher.name, publisher.director, publisher.phone) == (
        "Centre Ressource du Développement Durable (Cerdd)", "Emmanuel Bertin", "03 21 08 52 40")
    assert (publisher.contact_name, publisher.contact_email) == ("Antoine Boutonné", "aboutonne@cerdd.org")
    assert (pages.host, publisher.address) == ("Hébergeur SA", "Loos-en-Gohelle")
    assert pages.register.programmes == ("Transitions économiques des territoires vers le développement durable",)
    assert len(pages.register.processings) == 7 and named.register == pages.register


def test_another_programme_reads_to_complete(loaded: str) -> None:
    with session_scope(loaded) as session:
        other = legal_pages(session, "autre-programme", host="h", address="a")
    assert other.publisher.name == TO_COMPLETE and other.register.programmes == ()
    assert other.register.controller == "l'organisateur du programme (à compléter)"
