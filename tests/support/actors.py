"""Who a test's set-up acts as when no person is the subject: Switchboard itself, past every role check."""

from __future__ import annotations

from switchboard.identity.principal import SystemActor

SETUP = SystemActor("test set-up")
