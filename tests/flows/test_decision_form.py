"""The jury's decision form: an answer the form or the programme refuses is asked again, the refusal
on top of the form and the answer filled in; it never fails the run. The form's own rules are in its
JSON schema, which Prefect's server checks before the run resumes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from flows.decision import JuryDecisionInput, ask_until_decided, decision_input
from models.decision import DecisionForm


def _schema() -> dict[str, Any]:
    return decision_input("Proposition du jury :", {"secretaire": ""}).model_json_schema()


@pytest.mark.parametrize("answer", [
    {"secretaire": "", "confirmer": True},
    {"secretaire": "   ", "confirmer": True},
    {"secretaire": "Emmanuel Bertin", "confirmer": False, "territoires": "200033579; DROP TABLE"},
])
def test_the_form_schema_refuses_what_can_never_be_valid(answer: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"territoires": "", "motif": "", **answer}, _schema())


def test_the_form_schema_accepts_a_decision() -> None:
    jsonschema.validate({"secretaire": "Emmanuel Bertin", "confirmer": False, "territoires": "200033579, 246200364",
                         "motif": "Départage"}, _schema())


def test_the_form_keeps_its_rules_with_the_previous_answer_filled_in() -> None:
    form = decision_input("Réponse refusée : …", {"secretaire": "Emmanuel Bertin", "territoires": "200033579"})
    assert form().secretaire == "Emmanuel Bertin" and form._description == "Réponse refusée : …"
    with pytest.raises(ValidationError):
        form(secretaire=" ")


def test_refused_answers_are_asked_again_until_one_is_recorded() -> None:
    asked: list[tuple[str, dict[str, Any], str]] = []
    bad_form: ValidationError | None = None
    try:
        JuryDecisionInput(secretaire="")
    except ValidationError as exc:
        bad_form = exc
    answers: list[DecisionForm | ValidationError] = [
        bad_form,  # type: ignore[list-item]
        DecisionForm(secretaire="Emmanuel Bertin", confirmer=False, territoires="123456782"),
        DecisionForm(secretaire="Emmanuel Bertin"),
    ]

    def ask(text: str, previous: Mapping[str, Any], key: str) -> DecisionForm:
        asked.append((text, dict(previous), key))
        answer = answers.pop(0)
        if isinstance(answer, ValidationError):
            raise answer
        return answer

    def record(answer: DecisionForm) -> tuple[int, str | None]:
        if not answer.confirmer:
            return 0, "Décision refusée : aucune candidature ne correspond à 123456782."
        return 5, None

    assert ask_until_decided("Proposition du jury :", ask, record) == 5
    assert [key for _, _, key in asked] == ["decision", "decision-2", "decision-3"]
    assert asked[0][0] == "Proposition du jury :"
    assert asked[1][0].startswith("Réponse refusée : le champ « Secrétaire du jury » est invalide")
    assert asked[2][0].startswith("Réponse refusée : Décision refusée : aucune candidature ne correspond")
    assert asked[2][1]["territoires"] == "123456782"  # the answer comes back to be corrected


def test_a_form_refused_again_and_again_ends_with_the_last_refusal() -> None:
    def record(answer: DecisionForm) -> tuple[int, str | None]:
        return 0, "Décision refusée : un territoire est cité deux fois."

    with pytest.raises(RuntimeError, match="3 réponses refusées de suite"):
        ask_until_decided("P", lambda text, previous, key: DecisionForm(secretaire="X"), record, asks=3)
