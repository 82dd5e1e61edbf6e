"""Keys: production refuses weak ones, ENCRYPTION_KEY rotates, `make run` is development, and
the web process warns when it is surely behind a proxy it does not trust."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet, InvalidToken

from loopstrat import runtime
from loopstrat.app import create_app
from loopstrat.cli import main
from loopstrat.config import load_dotenv_file, load_settings
from loopstrat.crm import connection
from loopstrat.devrun import use_development
from loopstrat.models import Account
from tests.airtable_api import BASE_ID, TOKEN
from tests.conftest import make_account

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))


def connect_under(rt, account_id: int, encryption_key: str, secret_key: str | None = None):
    """Store the account's Airtable token as a release running with these keys did."""
    then = replace(
        rt.settings, encryption_key=encryption_key, secret_key=secret_key or rt.settings.secret_key
    )
    with rt.sessions() as session:
        account = session.get(Account, account_id)
        connection.save(then, account, TOKEN, BASE_ID, {})
        session.commit()


def stored_token(rt, account_id: int) -> bytes:
    with rt.sessions() as session:
        encrypted = session.get(Account, account_id).airtable_token_encrypted
    return encrypted.encode()


@pytest.fixture
def loopstrat(rt):
    """`loopstrat …` with the given ENCRYPTION_KEY, on the test database."""

    def invoke(*args: str, encryption_key: str, stdin: str | None = None):
        env = {
            "DATABASE_URL": rt.settings.database_url,
            "REDIS_URL": rt.settings.redis_url,
            "SECRET_KEY": rt.settings.secret_key,
            "ENCRYPTION_KEY": encryption_key,
        }
        result = CliRunner().invoke(main, list(args), env=env, input=stdin)
        runtime.configure(rt.settings)
        return result

    return invoke


def test_rotate_secrets_re_encrypts_every_token_with_the_first_key(rt, loopstrat):
    first, second = make_account(rt), make_account(rt, twilio_number="+18015550112")
    connect_under(rt, first.id, OLD)
    connect_under(rt, second.id, NEW)

    result = loopstrat("rotate-secrets", encryption_key=f"{NEW},{OLD}")

    assert result.exit_code == 0, result.output
    assert "2 Airtable token(s) re-encrypted" in result.output
    for account in (first, second):
        assert Fernet(NEW).decrypt(stored_token(rt, account.id)) == TOKEN.encode()
    with pytest.raises(InvalidToken):
        Fernet(OLD).decrypt(stored_token(rt, first.id))
    # The old key can now leave ENCRYPTION_KEY: the sync still reads the token.
    only_new = replace(rt.settings, encryption_key=NEW)
    with rt.sessions() as session:
        conn = connection.connection_of(only_new, session.get(Account, first.id))
    assert conn is not None and conn.token == TOKEN


def test_a_token_no_key_opens_is_named_and_left_as_it_was(rt, loopstrat):
    readable, lost = make_account(rt), make_account(rt, twilio_number="+18015550112")
    connect_under(rt, readable.id, OLD)
    connect_under(rt, lost.id, LOST)
    before = stored_token(rt, lost.id)

    result = loopstrat("rotate-secrets", encryption_key=f"{NEW},{OLD}")

    assert result.exit_code == 1
    assert f"account(s) {lost.id}:" in result.output
    assert stored_token(rt, lost.id) == before
    assert Fernet(NEW).decrypt(stored_token(rt, readable.id)) == TOKEN.encode()


def test_tokens_stored_under_the_secret_key_derived_key_move_to_encryption_key(rt, loopstrat):
    account = make_account(rt)
    connect_under(rt, account.id, "", secret_key="the-old-secret-key")  # ENCRYPTION_KEY unset

    refused = loopstrat("rotate-secrets", encryption_key=NEW)
    assert refused.exit_code == 1
    result = loopstrat(
        "rotate-secrets", "--from-secret-key", encryption_key=NEW, stdin="the-old-secret-key\n"
    )

    assert result.exit_code == 0, result.output
    assert Fernet(NEW).decrypt(stored_token(rt, account.id)) == TOKEN.encode()
    assert "the-old-secret-key" not in result.output


def test_a_command_with_no_environment_named_is_production_and_refuses_the_dev_key(
    rt, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("LOOPSTRAT_ENV")
    env = {"DATABASE_URL": rt.settings.database_url, "REDIS_URL": rt.settings.redis_url}
    result = CliRunner().invoke(main, ["migrate"], env=env)
    runtime.configure(rt.settings)
    assert result.exit_code == 1
    assert "SECRET_KEY must be set in production" in result.output


def test_make_run_is_development_for_its_children_and_the_commands_run_beside_it(
    monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOOPSTRAT_ENV")

    use_development()

    assert os.environ["LOOPSTRAT_ENV"] == "development"  # the Procfile's processes inherit it
    monkeypatch.delenv("LOOPSTRAT_ENV")  # a later shell, beside `make run`
    load_dotenv_file()
    assert load_settings().env == "development"
    written = (tmp_path / ".env").read_text()
    use_development()  # a second run keeps the developer's file as it is
    assert (tmp_path / ".env").read_text() == written


def test_an_environment_named_explicitly_wins_over_make_run(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOOPSTRAT_ENV", "production")
    use_development()
    assert os.environ["LOOPSTRAT_ENV"] == "production"
    assert not (tmp_path / ".env").exists()


def test_the_web_process_warns_at_start_when_https_has_no_trusted_proxy(rt, caplog):
    with caplog.at_level(logging.WARNING, logger="loopstrat.app"):
        create_app(replace(rt.settings, public_base_url="https://hooks.example.com"))
    assert "TRUSTED_PROXY_HOPS=0" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="loopstrat.app"):
        create_app(replace(rt.settings, trusted_proxy_hops=1))
    assert "TRUSTED_PROXY_HOPS" not in caplog.text
