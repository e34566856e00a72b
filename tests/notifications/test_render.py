"""Every notice kind renders in French, text and HTML, with a subject."""

from __future__ import annotations

from models.notices import LABELS, NoticeKind
from notifications.render import TEMPLATES_DIR


def test_every_kind_has_its_two_templates_and_a_label() -> None:
    for kind in NoticeKind:
        assert (TEMPLATES_DIR / f"{kind.value}.txt").is_file(), kind
        assert (TEMPLATES_DIR / f"{kind.value}.html").is_file(), kind
        assert kind in LABELS


def test_prefect_yaml_entrypoints_are_flows() -> None:
    import importlib

    import yaml
    from prefect import Flow

    from tests.conftest import PROJECT_ROOT

    deployments = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    for deployment in deployments:
        path, name = deployment["entrypoint"].split(":")
        module = path.removesuffix(".py").replace("/", ".")
        assert isinstance(getattr(importlib.import_module(module), name), Flow), deployment["name"]


def test_default_templates_use_only_the_variables_their_notice_provides() -> None:
    from jinja2 import meta

    from models.notices import CONTEXT
    from notifications.render import COMMON_VARIABLES, environment

    env = environment()
    for kind in NoticeKind:
        for ext in ("txt", "html"):
            source = (TEMPLATES_DIR / f"{kind.value}.{ext}").read_text(encoding="utf-8")
            used = meta.find_undeclared_variables(env.parse(source))
            assert used <= COMMON_VARIABLES | CONTEXT[kind], (kind, used - COMMON_VARIABLES - CONTEXT[kind])


def _override_context() -> dict[str, object]:
    from types import SimpleNamespace

    from models.notices import Recipient

    return {"destinataire": Recipient("anne@example.org", "Anne"), "lien": None,
            "organisateur": SimpleNamespace(name="Cerdd", full_name="Centre", phone="03 21 08 52 40")}


def test_the_core_text_is_the_body_block_as_the_text_writes_it_rendered_once() -> None:
    from notifications.render import render_notice

    written: list[int] = []
    context = {**_override_context(), "compte": lambda: written.append(1) or len(written)}
    overrides = {  # the body calls its parent block (empty in _base.txt) and counts its renderings
        "appel_lance.txt": '{% extends "_base.txt" %}{% set subject %}Objet{% endset %}'
                           "{% block body %}Corps n°{{ compte() }}.{{ super() }}{% endblock %}",
        "appel_lance.html": "<p>{{ subject }}</p>",
    }
    rendered = render_notice(NoticeKind.CALL_LAUNCHED, context, overrides)
    assert rendered.subject == "Objet"
    assert rendered.core_text == "Corps n°1."
    assert rendered.text.startswith("Bonjour Anne,\n\nCorps n°1.\n") and "Bien cordialement" in rendered.text
    assert written == [1]


def test_an_override_without_a_body_block_has_its_whole_text_as_core_and_one_left_out_is_rendered_alone() -> None:
    from notifications.render import render_notice

    html = {"appel_lance.html": "<p>{{ subject }}</p>"}
    plain = render_notice(NoticeKind.CALL_LAUNCHED, _override_context(),
                          {**html, "appel_lance.txt": "{% set subject %}Objet{% endset %}Tout le texte."})
    assert plain.core_text == "Tout le texte." and plain.text == "Tout le texte.\n"
    hidden = render_notice(NoticeKind.CALL_LAUNCHED, _override_context(), {
        **html, "appel_lance.txt": "{% set subject %}Objet{% endset %}Texte.{% if false %}{% block body %}"
                                   "Corps.{% endblock %}{% endif %}"})
    assert hidden.text == "Texte.\n" and hidden.core_text == "Corps."
