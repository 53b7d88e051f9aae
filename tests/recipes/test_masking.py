"""What run history keeps of a value: secrets masked, long and deep values cut, never an error."""

from __future__ import annotations

import datetime
import json
from typing import Any

import msgspec
import pytest

from switchboard.recipes.masking import MASK, MAX_BYTES, mask, secrets_in


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Secret",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "Authorization",
        "cookie",
        "client_secret",
        "private_key",
        "x-api-key",
        "X-Auth-Token",
        "githubToken",
    ],
)
def test_values_under_secret_looking_keys_are_masked(key: str) -> None:
    assert mask({key: "hunter2-hunter2", "title": "Call Bob"}) == {key: MASK, "title": "Call Bob"}


def test_secrets_are_masked_at_any_depth_whatever_their_type_and_the_original_is_untouched() -> None:
    value: dict[str, Any] = {"headers": [{"Authorization": "Bearer abc"}], "auth": {"token": {"raw": 1}}}
    assert mask(value) == {"headers": [{"Authorization": MASK}], "auth": {"token": MASK}}
    assert value["headers"][0]["Authorization"] == "Bearer abc"


def test_empty_secrets_stay_visible_as_empty() -> None:
    assert mask({"token": "", "password": None}) == {"token": "", "password": None}


def test_keys_that_only_resemble_nothing_secret_are_kept() -> None:
    value = {"title": "t", "count": 3, "ok": True, "ratio": 0.5, "keyboard": "qwerty", "author": "ann"}
    assert mask(value) == value


def test_a_secret_value_is_masked_where_it_travelled_under_another_name() -> None:
    secrets = secrets_in({"api_token": "sk-0123456789", "short": "x", "token": "tiny"})
    assert secrets == {"sk-0123456789"}
    assert mask({"note": "key is sk-0123456789!"}, secrets) == {"note": f"key is {MASK}!"}


def test_long_strings_are_cut_with_the_number_of_characters_left_out() -> None:
    assert mask("x" * 2500) == "x" * 2000 + "… (500 more characters)"
    assert mask("x" * 2000) == "x" * 2000


def test_long_lists_keep_fifty_items_and_a_note() -> None:
    assert mask(list(range(60))) == [*range(50), "… (10 more items)"]
    assert mask(list(range(50))) == list(range(50))


def test_deep_nesting_is_cut() -> None:
    value: Any = "bottom"
    for _ in range(12):
        value = {"inner": value}
    masked = mask(value)
    depth = 0
    while isinstance(masked, dict):
        masked, depth = masked["inner"], depth + 1
    assert (depth, masked) == (8, "… (nested too deeply to keep)")


def test_any_value_is_bounded_to_about_16_kb_of_json() -> None:
    masked = mask({f"field_{n}": "y" * 1500 for n in range(40)})
    assert isinstance(masked, str)
    assert len(masked.encode()) <= MAX_BYTES + 100
    assert masked.endswith("more bytes not kept)")
    small = {"a": "b" * 1000}
    assert mask(small) == small


class _Odd:
    def __str__(self) -> str:
        raise ValueError("no text")


class _Point(msgspec.Struct):
    x: int
    token: str


def test_odd_values_never_raise() -> None:
    masked = mask(
        {
            "bytes": b"\x00\x01",
            "set": {3, 1},
            "when": datetime.date(2026, 1, 2),
            "odd": _Odd(),
            "struct": _Point(1, "abcdefgh"),
            4: "int key",
            "tuple": (1, 2),
        }
    )
    assert masked == {
        "bytes": "(2 bytes)",
        "set": [1, 3],
        "when": "2026-01-02",
        "odd": "(_Odd)",
        "struct": {"x": 1, "token": MASK},
        "4": "int key",
        "tuple": [1, 2],
    }
    json.dumps(masked)


def test_a_connect_link_keeps_its_address_but_not_its_token() -> None:
    link = "https://switchboard.example.com/connect/Vq3-x_7Jk2LmN0pQrStUvWxYz0123456789abcdEFGH"
    value = {"note": f"Open {link} to connect it.", "links": [link, f"{link}?x=1"], "other": "/connect/short"}

    assert mask(value) == {
        "note": "Open https://switchboard.example.com/connect/… to connect it.",
        "links": [
            "https://switchboard.example.com/connect/…",
            "https://switchboard.example.com/connect/…?x=1",
        ],
        "other": "/connect/short",
    }
