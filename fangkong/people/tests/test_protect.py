"""The bulk blind index is the same index as the single one (a lookup finds what a bulk
writer stored)."""

from __future__ import annotations

from fangkong.people import protect


def test_doc_index_many_matches_doc_index_in_order() -> None:
    numbers = ["11010519491231002X", "440902199001011234", ""]
    assert protect.doc_index_many(numbers) == [protect.doc_index(n) for n in numbers]
    assert protect.doc_index_many(iter(numbers[:1])) == [protect.doc_index(numbers[0])]
