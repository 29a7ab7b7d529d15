"""What a person types, as a query each database reads literally (app/storage/search.py): every word required,
the last one a prefix, and nothing typed ever read as the query language's own syntax."""

from __future__ import annotations

import pytest

from app.storage.search import fold, fts_query, tsquery


@pytest.mark.parametrize(
    ("typed", "fts5", "postgres"),
    [
        ("bread", '"bread"*', "'bread':*"),
        ("sour dough", '"sour" "dough"*', "'sour' & 'dough':*"),
        ('say "hi"', '"say" """hi"""*', "'say' & '\"hi\"':*"),
        ("NOT OR AND", '"NOT" "OR" "AND"*', "'NOT' & 'OR' & 'AND':*"),  # words, not operators
        ("it's", '"it\'s"*', "'it''s':*"),
        ("a\\b", '"a\\b"*', "'a\\\\b':*"),
        ("col:umn (x)", '"col:umn" "(x)"*', "'col:umn' & '(x)':*"),
        ("   ", "", ""),
    ],
)
def test_typed_words_become_a_literal_query(typed, fts5, postgres):
    assert (fts_query(typed), tsquery(typed)) == (fts5, postgres)


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Café", "cafe"), ("CRÈME brûlée", "creme brulee"), ("Ångström", "angstrom"), ("naïve", "naive"), (None, None)],
)
def test_folding_drops_case_and_accents(text, folded):
    assert fold(text) == folded
