"""Settings: a malformed value stops start-up naming it; a missing credential picks a twin."""

from __future__ import annotations

import pytest

from loopstrat.config import ConfigError, load_settings
from loopstrat.drafting.drafter import make_drafter
from loopstrat.sms.gateway import SandboxGateway, TwilioGateway, make_gateway

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_AUTH_TOKEN": "token"}


def test_no_credentials_means_sandbox_twins_and_the_banner_says_so():
    settings = load_settings({})
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
        ({"LOOPSTRAT_ENV": "production"}, "SECRET_KEY"),
    ],
)
def test_a_malformed_setting_is_a_clear_error_naming_it(environ, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(environ)


def test_production_needs_an_encryption_key():
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        load_settings({"LOOPSTRAT_ENV": "production", "SECRET_KEY": "s3cret"})


def test_base_urls_are_overridable():
    settings = load_settings({**TWILIO, "TWILIO_API_BASE": "http://127.0.0.1:9999"})
    gateway = make_gateway(settings)
    assert isinstance(gateway, TwilioGateway)
    assert gateway.client.http_client.api_base == "http://127.0.0.1:9999"
