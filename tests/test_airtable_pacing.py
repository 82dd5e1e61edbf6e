"""The per-base limiter is shared by every worker through Redis, and a 429 silences the base."""

from __future__ import annotations

import pytest

from loopstrat.config import Settings
from loopstrat.crm.connection import AirtableSettingsError, decrypt_token, encrypt_token, masked
from loopstrat.crm.pacing import BaseLimiter

T0 = 1_800_000_000.0


def test_two_workers_share_five_requests_per_window_per_base(redis_conn):
    worker_a, worker_b = BaseLimiter(redis_conn), BaseLimiter(redis_conn)
    granted = [w.try_acquire("appA", T0 + i * 0.01) for i, w in enumerate([worker_a, worker_b] * 3)]
    assert granted[:5] == [0.0] * 5
    assert granted[5] == pytest.approx(1.05 - 0.05, abs=1e-6)  # until the first slot frees
    assert worker_b.try_acquire("appOther", T0) == 0.0  # another base has its own budget
    assert worker_a.try_acquire("appA", T0 + 1.06) == 0.0


def test_a_429_pauses_the_base_for_30_seconds_for_every_worker(redis_conn):
    worker_a, worker_b = BaseLimiter(redis_conn), BaseLimiter(redis_conn)
    worker_a.pause("appA", T0)
    assert worker_b.try_acquire("appA", T0 + 1) == pytest.approx(29)
    assert worker_b.try_acquire("appA", T0 + 30) == 0.0


def test_tokens_are_encrypted_masked_and_refused_under_another_key():
    token = "patABCDEFGH.0123456789abcdef"
    ours, theirs = Settings(secret_key="one"), Settings(secret_key="two")
    stored = encrypt_token(ours, token)
    assert token not in stored
    assert decrypt_token(ours, stored) == token
    assert masked(token) == "pat…cdef"
    with pytest.raises(AirtableSettingsError, match="ENCRYPTION_KEY"):
        decrypt_token(theirs, stored)


def test_a_sync_releases_only_its_own_lock(redis_conn):
    from loopstrat.crm.sync import _release

    redis_conn.set("crm:sync:1", "theirs")
    _release(redis_conn, "crm:sync:1", "mine")  # ours expired; another sync holds it now
    assert redis_conn.get("crm:sync:1") == b"theirs"
    _release(redis_conn, "crm:sync:1", "theirs")
    assert redis_conn.get("crm:sync:1") is None
