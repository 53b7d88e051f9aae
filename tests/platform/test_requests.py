"""Reading a bearer token off the Authorization header (RFC 6750 §2.1), as every layer does."""

from __future__ import annotations

import pytest

from switchboard.platform.core.requests import bearer_token


@pytest.mark.parametrize("value", ["Bearer abc.def", "bearer abc.def", "BEARER abc.def", "bEaReR abc.def"])
def test_the_scheme_is_matched_whatever_its_case(value: str) -> None:
    assert bearer_token(value) == "abc.def"


@pytest.mark.parametrize(
    "value", ["Bearer   abc.def", "Bearer abc.def  ", "  Bearer abc.def", "Bearer \tabc.def\t"]
)
def test_spaces_around_the_token_are_not_part_of_it(value: str) -> None:
    assert bearer_token(value) == "abc.def"


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer    ", "bearer \t"])
def test_a_bearer_header_without_a_token_carries_none(value: str) -> None:
    assert bearer_token(value) is None


@pytest.mark.parametrize(
    "value", ["Basic YWxpY2U6c2VjcmV0", "Token abc.def", "Bearerabc.def", "abc.def", "DPoP abc"]
)
def test_another_scheme_carries_no_bearer_token(value: str) -> None:
    assert bearer_token(value) is None


@pytest.mark.parametrize("value", [None, ""])
def test_a_missing_header_carries_no_bearer_token(value: str | None) -> None:
    assert bearer_token(value) is None
