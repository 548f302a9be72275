"""The team's request bodies on intake: who acted comes from the access token, so a body that
names an actor is refused (``extra="forbid"``), whichever actor it names."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from cerniera.intake.schemas import AssessmentRequest, OverrideRequest, TakingChargeRequest

VALID: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (AssessmentRequest, {"answers": {"R1": "yes"}}, "assessed_by"),
    (OverrideRequest, {"decision": "not_eligible", "reason": "Rete assente."}, "decided_by"),
    (TakingChargeRequest, {"pai": {"objectives": ["Rientro"]}, "information": {}}, "recorded_by"),
]


@pytest.mark.parametrize(("model", "body", "actor"), VALID)
def test_a_body_without_an_actor_is_whole(
    model: type[BaseModel], body: dict[str, Any], actor: str
) -> None:
    model.model_validate(body)
    assert actor not in model.model_fields
    assert actor not in model.model_json_schema()["properties"]


@pytest.mark.parametrize(("model", "body", "actor"), VALID)
def test_a_body_naming_an_actor_is_refused(
    model: type[BaseModel], body: dict[str, Any], actor: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({**body, actor: "op-lbianchi"})
    [error] = refused.value.errors()
    assert (error["type"], error["loc"]) == ("extra_forbidden", (actor,))
