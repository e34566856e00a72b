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
