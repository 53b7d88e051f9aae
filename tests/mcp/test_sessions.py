"""Session ids carry the client's declared URL elicitation, and only ids this server signed are read."""

from __future__ import annotations

from switchboard.platform.mcp.sessions import SessionIds, SessionNote


def test_a_session_id_keeps_its_note_and_is_unique() -> None:
    ids = SessionIds("a" * 32)
    with_url, plain = ids.issue(SessionNote(url_elicitation=True)), ids.issue(SessionNote())
    assert ids.read(with_url) == SessionNote(url_elicitation=True)
    assert ids.read(plain) == SessionNote(url_elicitation=False)
    assert ids.issue(SessionNote()) != plain
    assert all(33 <= ord(c) <= 126 for c in with_url)  # visible ASCII, as the transport requires


def test_an_altered_or_foreign_session_id_is_not_read() -> None:
    ids = SessionIds("a" * 32)
    issued = ids.issue(SessionNote())
    upgraded = issued.replace("sb1.-.", "sb1.u.", 1)
    assert ids.read(upgraded) is None
    assert SessionIds("b" * 32).read(issued) is None
    assert ids.read("") is None
    assert ids.read("not-a-session") is None
