"""What a post costs before it is stored: made-up form keys, a sick Redis, and the health check."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, func, select

from loopstrat.app import create_app
from loopstrat.leads.admission import STORE_FACTOR
from loopstrat.models import Lead
from tests.leads_helpers import LEAD, post_lead

CLOSED_PORT_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there


@pytest.fixture
def account_lookups(rt) -> Iterator[list[str]]:
    """Every statement that reads the accounts table, as the database received it (on any
    engine: the app under test builds its own runtime)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if "FROM accounts" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def test_an_unknown_form_key_costs_one_lookup_however_often_it_is_posted(
    client, account, account_lookups
):
    answers = [client.post("/leads/madeUpKey123", json=LEAD).status_code for _ in range(5)]
    assert answers == [404] * 5
    assert len(account_lookups) == 1


def test_a_malformed_form_key_is_a_404_before_any_count_or_lookup(
    client, account, account_lookups, redis_conn
):
    for key in ("a" * 65, "no%20such", "x.y"):
        assert client.post(f"/leads/{key}", json=LEAD).status_code == 404
    assert account_lookups == []
    assert redis_conn.keys("rl:*") == []


def test_made_up_keys_from_one_address_are_refused_before_any_lookup_past_its_ceiling(
    client, account, reconfigure, account_lookups
):
    reconfigure(intake_rate_per_ip_per_min=2)
    ceiling = 2 * STORE_FACTOR
    answers = [client.post(f"/leads/made-up-{i}", json=LEAD) for i in range(ceiling + 5)]
    assert [a.status_code for a in answers] == [404] * ceiling + [429] * 5
    assert len(account_lookups) == ceiling


def test_a_lead_is_stored_and_answered_when_the_limiters_redis_refuses_connections(
    account, reconfigure, db, clock
):
    down = reconfigure(redis_url=CLOSED_PORT_REDIS)
    client = create_app(down.settings).test_client()
    answers = [post_lead(client, account, {**LEAD, "phone": f"80155504{i:02d}"}) for i in range(3)]
    assert [a.status_code for a in answers] == [202] * 3
    assert db.scalar(select(func.count()).select_from(Lead)) == 3


class SilentRedis:
    """A TCP port that accepts connections and never answers: a hung Redis."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:  # one accepted as it closes (the wake-up thread's) is closed too
                self.connections.append(conn)
                if self.closed:
                    conn.close()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.listener.close()
            for conn in self.connections:
                conn.close()


def test_a_hung_redis_is_asked_once_not_once_per_post(account, reconfigure, db, clock):
    """Each post would otherwise wait out the limiter's timeout (the shared client's is 5 s):
    after one failure the limiter stops asking for a while and lets posts through."""
    silent = SilentRedis()
    try:
        hung = reconfigure(redis_url=silent.url)
        client = create_app(hung.settings).test_client()
        answers = [
            post_lead(client, account, {**LEAD, "phone": f"80155505{i:02d}"}) for i in range(4)
        ]
        assert [a.status_code for a in answers] == [202] * 4
        # One connection per client that asks (the limiter, and the wake-up thread in the
        # background), never one per post.
        assert len(silent.connections) <= 2
        assert db.scalar(select(func.count()).select_from(Lead)) == 4
    finally:
        silent.close()


def test_healthz_answers_200_when_the_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True}


def test_healthz_names_redis_when_it_is_down(reconfigure):
    down = reconfigure(redis_url=CLOSED_PORT_REDIS)
    response = create_app(down.settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"ok": False, "failed": ["redis"]}


def test_healthz_names_the_database_when_it_is_down_and_shows_no_credentials(reconfigure):
    url = "postgresql+psycopg://loopstrat:s3cret@127.0.0.1:1/loopstrat"  # closed port
    down = reconfigure(database_url=url)
    response = create_app(down.settings).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"ok": False, "failed": ["database"]}
    assert b"s3cret" not in response.data
