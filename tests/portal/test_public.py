"""The public router over HTTP: the health check and headers, what answers without a link, an
internal error as a French page, tokens masked in the server's log."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.portal.conftest import SECRET, Clock, consultancy, juror, link, territory
from tests.portal.helpers import assert_french_refusal
from transitions.portal.app import create_app


def test_health_and_headers(selected: str, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    answer = client.get("/sante")
    assert answer.status_code == 200 and answer.text == "ok\n"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert_french_refusal(client.get("/"), 404, "lien personnel")
    assert_french_refusal(client.get("/nulle/part"), 404, "Cette page n'existe pas")


def test_an_internal_error_is_a_french_page_without_details(selected: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    def broken() -> object:
        raise RuntimeError("horloge cassée /l/secret-token")

    _, path = link(selected, territory())
    client = TestClient(create_app(selected, SECRET, clock=broken), raise_server_exceptions=False)  # type: ignore[arg-type]
    answer = client.get(path)
    assert_french_refusal(answer, 500, "Erreur interne inattendue")
    assert "horloge" not in answer.text and "RuntimeError" not in answer.text


def test_the_server_log_masks_tokens(tmp_path) -> None:  # noqa: ANN001
    import logging.config

    from transitions.portal.server import log_config

    log = tmp_path / "erreurs.log"
    logging.config.dictConfig(log_config(str(log)))
    try:
        raise RuntimeError("échec sur /l/eyJnIjoxLCJzIjoi.abc/territoire/200033579")
    except RuntimeError:
        logging.getLogger("transitions.portail").exception("erreur sur %s", "/l/eyJnIjoxLCJzIjoi.abc/jury")
    text = log.read_text(encoding="utf-8")
    assert "eyJnIjoxLCJzIjoi" not in text and text.count("/l/***") == 3


def test_a_link_leads_to_the_page_mailed_links_name(selected: str, client_for) -> None:  # noqa: ANN001
    """`/l/<token>` leads to `models.links.home_path`'s page, the one mailed links name, and it answers."""
    client = client_for(selected)
    for bearer_of in (territory(), territory(party="cerdd"), consultancy(), juror()):
        _, path = link(selected, bearer_of)
        token = path.split("/")[2]
        for own in (f"/l/{token}", f"/l/{token}/"):
            answer = client.get(own)
            assert answer.status_code == 303 and answer.headers["location"] == path
        assert client.get(path).status_code == 200, path


def test_health_tells_an_outage_with_retry_after_and_logs_it_once(tmp_path, caplog) -> None:  # noqa: ANN001
    import logging

    from transitions.portal import errors

    unreachable = f"sqlite:///{tmp_path / 'absent' / 'transitions.db'}"  # its folder does not exist
    client = TestClient(create_app(unreachable, SECRET), raise_server_exceptions=False)
    with caplog.at_level(logging.WARNING, logger="transitions.portail"):
        answers = [client.get("/sante") for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert all(a.headers["retry-after"] == str(errors.RETRY_AFTER) for a in answers)
    assert answers[0].text == "base de données injoignable\n"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "base de données injoignable" in lines[0], lines
    assert not any(r.exc_info for r in caplog.records)


def test_health_does_not_hide_a_bug_as_an_outage(selected: str, monkeypatch) -> None:  # noqa: ANN001
    from transitions.portal.routers import public

    def broken(*_: object, **__: object) -> object:
        raise RuntimeError("un défaut du programme, pas une panne")

    monkeypatch.setattr(public, "load_ctx", broken)
    client = TestClient(create_app(selected, SECRET), raise_server_exceptions=False)
    assert_french_refusal(client.get("/sante"), 500, "Erreur interne inattendue")
