"""The équipe's request bodies on monitoring: who acted comes from the access token, so a body
that names an actor is refused (``extra="forbid"``)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cerniera.monitoring.schemas import CheckRequest, CloseRequest


def test_the_check_reported_is_the_tokens_actors() -> None:
    report = CheckRequest.model_validate({"outcome": "stable", "week": 2}).report("op-lbianchi")
    assert (report.checked_by, report.week, report.outcome) == ("op-lbianchi", 2, "stable")


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (CheckRequest, {"outcome": "stable", "checked_by": "op-lbianchi"}),
        (CloseRequest, {"outcome": "deceased", "closed_by": "op-lbianchi"}),
    ],
)
def test_a_body_naming_an_actor_is_refused(
    model: type[CheckRequest] | type[CloseRequest], body: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert [e["type"] for e in refused.value.errors()] == ["extra_forbidden"]
    actor = next(k for k in body if k.endswith("_by"))
    assert actor not in model.model_json_schema()["properties"]
