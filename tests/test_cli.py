"""The `loopstrat` command as an operator uses it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from loopstrat.cli import main
from loopstrat.models import Account


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
