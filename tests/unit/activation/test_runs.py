"""How a run of events is cut for the bulk path: each case at most once per stretch, in order,
so a case met again sees what its earlier event saved."""

from __future__ import annotations

import pytest

from cerniera.activation.cases import distinct_stretches


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
    cut = distinct_stretches(case_ids)
    assert [[case_ids[i] for i in stretch] for stretch in cut] == stretches
    assert [i for stretch in cut for i in stretch] == list(range(len(case_ids)))
