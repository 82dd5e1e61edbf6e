"""The `loopstrat` command as an operator uses it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from loopstrat.cli import main
from loopstrat.models import Account, User
from tests.dashboard_helpers import sign_in


@pytest.fixture
def cli_env(rt, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("REDIS_URL", rt.settings.redis_url)
    return CliRunner()


ARGS = [
    "create-account",
    "--name", "Acme Plumbing",
    "--trade", "plumbing",
    "--twilio-number", "+1 801 555 0111",
    "--timezone", "America/Denver",
    "--zips", "84101, 84102",
    "--alert-phone", "801-555-0199",
]  # fmt: skip


def test_create_account_json_prints_only_the_ids(cli_env, db):
    result = cli_env.invoke(main, [*ARGS, "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"account_id", "form_key"}
    account = db.get(Account, printed["account_id"])
    assert account.form_key == printed["form_key"]
    assert account.twilio_number == "+18015550111"
    assert account.alert_phone == "+18015550199"
    assert account.service_zips == "84101,84102"
    assert account.plan_status == "trialing"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--twilio-number", "12345", "--twilio-number"),
        ("--timezone", "Mars/Olympus", "--timezone"),
        ("--zips", "84101,ABCDE", "--zips"),
    ],
)
def test_create_account_refuses_bad_options_and_stores_nothing(cli_env, db, option, value, message):
    args = list(ARGS)
    args[args.index(option) + 1] = value
    result = cli_env.invoke(main, args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.scalars(select(Account)).all() == []


def test_a_twilio_number_belongs_to_one_account(cli_env):
    assert cli_env.invoke(main, ARGS).exit_code == 0
    again = cli_env.invoke(main, ARGS)
    assert again.exit_code != 0
    assert "already belongs" in again.output


def test_a_malformed_setting_stops_the_command_with_its_name(cli_env, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "localhost:6379")
    result = cli_env.invoke(main, ARGS)
    assert result.exit_code != 0
    assert "REDIS_URL" in result.output


def _account_id(cli_env):
    return json.loads(cli_env.invoke(main, [*ARGS, "--json"]).stdout)["account_id"]


def test_create_user_with_a_piped_password_then_signs_in(cli_env, db, client):
    account_id = _account_id(cli_env)
    args = ["create-user", "--account", str(account_id), "--email", "Ann@Example.com"]
    result = cli_env.invoke(main, [*args, "--role", "admin"], input="a long enough secret\n")
    assert result.exit_code == 0, result.output
    assert "a long enough secret" not in result.output  # never echoed back
    user = db.scalars(select(User)).one()
    assert (user.account_id, user.email, user.role) == (account_id, "ann@example.com", "admin")
    assert sign_in(client, "ann@example.com", "a long enough secret").status_code == 302


def test_create_user_generates_a_password_and_prints_it_once(cli_env, db, client):
    account_id = _account_id(cli_env)
    args = ["create-user", "--account", str(account_id), "--email", "bo@example.com"]
    result = cli_env.invoke(main, args, input="")
    assert result.exit_code == 0, result.output
    password = result.stdout.split("password (shown once): ")[1].strip()
    assert len(password) >= 20
    assert db.scalars(select(User)).one().role == "member"
    assert sign_in(client, "bo@example.com", password).status_code == 302


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "a long enough secret", "not an email address"),
        ("ann@example.com", "short", "at least 12 characters"),
    ],
)
def test_create_user_refuses_bad_input_and_stores_nothing(cli_env, db, email, password, message):
    args = ["create-user", "--account", str(_account_id(cli_env)), "--email", email]
    result = cli_env.invoke(main, args, input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert db.scalars(select(User)).all() == []


def test_create_user_refuses_a_second_user_with_the_same_email_or_no_account(cli_env, db):
    args = ["create-user", "--account", str(_account_id(cli_env)), "--email", "ann@example.com"]
    assert cli_env.invoke(main, args, input="a long enough secret\n").exit_code == 0
    again = cli_env.invoke(main, [*args[:-1], "ANN@example.com"], input="another secret!!\n")
    assert "already exists" in again.output
    missing = cli_env.invoke(main, ["create-user", "--account", "999", "--email", "x@example.com"])
    assert "no account 999" in missing.output
    assert len(db.scalars(select(User)).all()) == 1
