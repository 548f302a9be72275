"""How a run of events is cut for a bulk path: each key (a case, a person) at most once per
stretch, in order, so an event whose case or person comes again sees what the earlier one
saved."""

from __future__ import annotations

import pytest

from cerniera.shared.messaging.consumer import distinct_stretches


@pytest.mark.parametrize(
    ("case_ids", "stretches"),
    [
        ([], []),
        (["a"], [["a"]]),
        (["a", "b", "c"], [["a", "b", "c"]]),
        (["a", "b", "a", "c"], [["a", "b"], ["a", "c"]]),
        (["a", "a", "a"], [["a"], ["a"], ["a"]]),
        (["a", "b", "b", "a"], [["a", "b"], ["b", "a"]]),
    ],
)
def test_a_run_is_cut_where_a_case_comes_again(
    case_ids: list[str], stretches: list[list[str]]
) -> None:
    cut = distinct_stretches([(case_id,) for case_id in case_ids])
    assert [[case_ids[i] for i in stretch] for stretch in cut] == stretches
    assert [i for stretch in cut for i in stretch] == list(range(len(case_ids)))


def test_a_run_is_cut_where_a_person_comes_again_in_another_case() -> None:
    keys = [("c1", "p1"), ("c2", "p2"), ("c3", "p1"), ("c4",)]
    assert distinct_stretches(keys) == [range(0, 2), range(2, 4)]
