"""Settings: a malformed value stops start-up naming it; a missing credential picks a twin."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from loopstrat.config import DEV_SECRET_KEY, ConfigError, load_settings
from loopstrat.drafting.drafter import make_drafter
from loopstrat.sms.gateway import SandboxGateway, TwilioGateway, make_gateway

DEV = {"LOOPSTRAT_ENV": "development"}
TWILIO = {**DEV, "TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_AUTH_TOKEN": "token"}


def test_no_credentials_means_sandbox_twins_and_the_banner_says_so():
    settings = load_settings(DEV)
    assert isinstance(make_gateway(settings), SandboxGateway)
    assert make_drafter(settings) is None
    banner = settings.banner()
    assert "sms=sandbox twin" in banner and "drafts=templates" in banner
    assert "db=sqlite" in banner


def test_credentials_select_the_live_services():
    settings = load_settings({**TWILIO, "ANTHROPIC_API_KEY": "sk-ant-x"})
    assert isinstance(make_gateway(settings), TwilioGateway)
    assert make_drafter(settings) is not None
    assert "sms=twilio" in settings.banner() and "drafts=claude" in settings.banner()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"DRAFT_BUDGET_S": "fast"}, "DRAFT_BUDGET_S"),
        ({"TWILIO_TIMEOUT_S": "-1"}, "TWILIO_TIMEOUT_S"),
        ({"VALIDITY_PERIOD_S": "1.5"}, "VALIDITY_PERIOD_S"),
        ({"VALIDITY_PERIOD_S": "36001"}, "VALIDITY_PERIOD_S"),
        ({"PUBLIC_BASE_URL": "hooks.example.com"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_API_BASE": "ftp://proxy"}, "TWILIO_API_BASE"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "127.0.0.1:6379"}, "REDIS_URL"),
        ({"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC" + "a" * 32}, "TWILIO_AUTH_TOKEN"),
        ({"STRIPE_SECRET_KEY": "pk_live_x"}, "STRIPE_SECRET_KEY"),
        ({"ENCRYPTION_KEY": "short"}, "ENCRYPTION_KEY"),
        ({"TRUSTED_PROXY_HOPS": "one"}, "TRUSTED_PROXY_HOPS"),
        ({"LOOPSTRAT_ENV": "staging"}, "LOOPSTRAT_ENV"),
        ({"ENCRYPTION_KEY": f"{Fernet.generate_key().decode()},short"}, "key 2 of 2"),
    ],
)
def test_a_malformed_setting_is_a_clear_error_naming_it(environ, named):
    with pytest.raises(ConfigError, match=named):
        load_settings({**DEV, **environ})


def test_base_urls_are_overridable():
    settings = load_settings({**TWILIO, "TWILIO_API_BASE": "http://127.0.0.1:9999"})
    gateway = make_gateway(settings)
    assert isinstance(gateway, TwilioGateway)
    assert gateway.client.http_client.api_base == "http://127.0.0.1:9999"


STRONG_SECRET = "x7Qp2vL9sK4mN8rT1wY6zB3cF5hJ0dGa"  # 32 characters
KEY = Fernet.generate_key().decode()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "SECRET_KEY"),  # LOOPSTRAT_ENV unset is production
        ({"SECRET_KEY": DEV_SECRET_KEY, "ENCRYPTION_KEY": KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG_SECRET[:31], "ENCRYPTION_KEY": KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": STRONG_SECRET}, "ENCRYPTION_KEY"),
        ({"LOOPSTRAT_ENV": "production", "SECRET_KEY": STRONG_SECRET}, "ENCRYPTION_KEY"),
    ],
)
def test_production_refuses_to_start_without_strong_keys_and_says_how_to_make_them(environ, named):
    with pytest.raises(ConfigError, match=named) as refused:
        load_settings(environ)
    assert "python -c" in str(refused.value)
    assert "LOOPSTRAT_ENV=development" in str(refused.value)  # the way out for a local run


def test_production_starts_with_a_strong_secret_and_an_encryption_key():
    settings = load_settings({"SECRET_KEY": STRONG_SECRET, "ENCRYPTION_KEY": KEY})
    assert settings.env == "production"
    assert settings.fernet_keys == [KEY.encode()]


def test_encryption_key_lists_keys_newest_first_and_every_one_decrypts():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    settings = load_settings({**DEV, "ENCRYPTION_KEY": f"{new.decode()}, {old.decode()}"})
    stored_under_old = Fernet(old).encrypt(b"patToken")
    assert settings.fernet.decrypt(stored_under_old) == b"patToken"
    assert Fernet(new).decrypt(settings.fernet.encrypt(b"patToken")) == b"patToken"


def test_an_https_public_url_with_no_trusted_proxy_warns_and_names_the_fix():
    https = {**DEV, "PUBLIC_BASE_URL": "https://hooks.example.com"}
    warning = load_settings(https).proxy_warning
    assert warning is not None and "TRUSTED_PROXY_HOPS" in warning
    assert load_settings({**https, "TRUSTED_PROXY_HOPS": "1"}).proxy_warning is None
    assert load_settings({**DEV, "PUBLIC_BASE_URL": "http://127.0.0.1:5000"}).proxy_warning is None
