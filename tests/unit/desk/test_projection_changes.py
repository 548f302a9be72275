"""What the projection tells the listeners (``NOTIFY desk_changes``): each notification under
PostgreSQL's 8000 bytes however many cases a batch touched, and read back as it was told."""

from __future__ import annotations

import pytest

from cerniera.desk.live import MAX_PAYLOAD, Change, parse, payloads


def many(count: int) -> list[Change]:
    return [
        Change(
            f"asst-vimercate:V2024-{n:06d}-àèìòù",  # non-ASCII: bytes, not characters, count
            "desio" if n % 2 else None,
            frozenset({"coop-il-melograno", f"coop-{n}"}) if n % 3 else frozenset(),
        )
        for n in range(count)
    ]


def test_a_batch_of_thousands_is_told_in_notifications_under_the_limit() -> None:
    changes = many(3000)
    chunks = payloads(changes)
    assert len(chunks) > 1
    assert all(len(chunk.encode()) <= MAX_PAYLOAD < 8000 for chunk in chunks)
    assert [c for chunk in chunks for c in parse(chunk)] == changes


def test_a_few_changes_are_one_notification() -> None:
    changes = many(3)
    assert [parse(chunk) for chunk in payloads(changes)] == [changes]
    assert payloads([]) == []


@pytest.mark.parametrize(
    "payload", ["", "{}", "[]", "[1]", '[["a", "b"]]', "[[1, null, []]]", "not json"]
)
def test_a_notification_that_is_no_change_is_refused(payload: str) -> None:
    with pytest.raises(ValueError, match="not a desk change"):
        parse(payload)
