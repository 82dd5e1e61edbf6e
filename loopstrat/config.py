"""Settings from the environment, validated once at start-up.

Owns every tunable and every outside credential. Must never read os.environ anywhere else:
the rest of the code receives a Settings value.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from cryptography.fernet import Fernet, MultiFernet

DEV_SECRET_KEY = "loopstrat-dev-secret-change-me"  # noqa: S105 - development default, refused in production
SECRET_KEY_MIN_CHARS = 32
# Production unless told otherwise: a deploy that forgets LOOPSTRAT_ENV must refuse weak keys,
# not run on them. `loopstrat dev` (make run) says development for itself and its children.
ENVIRONMENTS = ("production", "development", "test")
MAKE_SECRET_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105
MAKE_FERNET_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)

TWILIO_API_DEFAULT = "https://api.twilio.com"
ANTHROPIC_API_DEFAULT = "https://api.anthropic.com"
STRIPE_API_DEFAULT = "https://api.stripe.com"
AIRTABLE_API_DEFAULT = "https://api.airtable.com"


class ConfigError(ValueError):
    """A setting is present but malformed; the message names the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    env: str = "production"
    database_url: str = "sqlite:///instance/loopstrat.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = DEV_SECRET_KEY
    encryption_key: str = ""
    public_base_url: str = "http://127.0.0.1:5000"
    port: int = 5000  # where the web process listens (PORT, as gunicorn and hosts use it)
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    twilio_api_base: str = TWILIO_API_DEFAULT
    anthropic_api_key: str = field(default="", repr=False)
    anthropic_model: str = "claude-haiku-4-5"
    anthropic_base_url: str = ANTHROPIC_API_DEFAULT
    stripe_secret_key: str = field(default="", repr=False)
    stripe_webhook_secret: str = field(default="", repr=False)
    stripe_api_base: str = STRIPE_API_DEFAULT
    airtable_api_url: str = AIRTABLE_API_DEFAULT
    draft_budget_s: float = 8.0
    twilio_timeout_s: float = 5.0
    validity_period_s: int = 600
    intake_max_body_bytes: int = 64 * 1024
    intake_rate_per_key_per_min: int = 120
    intake_rate_per_ip_per_min: int = 30
    trusted_proxy_hops: int = 0
    # What the dashboard's ROI page counts as cost (README: Settings).
    plan_price_usd: float = 99.0  # a month of the plan
    sms_segment_price_usd: float = 0.0083  # Twilio's US price per outbound segment
    ai_input_usd_per_mtok: float = 1.0  # Claude Haiku 4.5, per million input tokens
    ai_output_usd_per_mtok: float = 5.0  # and per million output tokens
    session_hours: float = 12.0  # a dashboard sign-in lasts this long
    # Sign-in attempts a minute: per email (guessing one user's password) and per address
    # (trying many users from one place). Argon2 makes each guess slow besides.
    sign_in_rate_per_email_per_min: int = 5
    sign_in_rate_per_ip_per_min: int = 20
    # Jobs one `loopstrat worker` runs at once (its pool of processes): a job mostly waits on
    # Claude or Twilio, so a 2-core host keeps 16 in flight in about 0.5 GB (README: Processes).
    # The dispatcher takes the pool to be this size until a worker process is heard of.
    worker_concurrency: int = 16

    @property
    def sms_backend(self) -> str:
        return "twilio" if self.twilio_account_sid else "sandbox"

    @property
    def drafter_backend(self) -> str:
        return "claude" if self.anthropic_api_key else "template"

    @property
    def billing_backend(self) -> str:
        return "stripe" if self.stripe_secret_key else "off"

    @property
    def fernet_keys(self) -> list[bytes]:
        """ENCRYPTION_KEY's keys, newest first: the first encrypts, every one decrypts."""
        if self.encryption_key:
            return [key.strip().encode() for key in self.encryption_key.split(",") if key.strip()]
        # Outside production only (_validate): a key derived from SECRET_KEY keeps `make run`
        # zero-config.
        return [derived_fernet_key(self.secret_key)]

    @property
    def fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in self.fernet_keys])

    @property
    def proxy_warning(self) -> str | None:
        """Served over https with no proxy trusted: almost surely behind one we ignore."""
        if self.public_base_url.startswith("https://") and self.trusted_proxy_hops == 0:
            return (
                "PUBLIC_BASE_URL is https but TRUSTED_PROXY_HOPS=0: behind a load balancer "
                "every visitor shares one per-IP rate limit and the consent evidence records "
                "the balancer's address; set TRUSTED_PROXY_HOPS (README: Behind a proxy)"
            )
        return None

    def banner(self) -> str:
        services = [
            ("sms", self.sms_backend, "sandbox twin, no TWILIO_ACCOUNT_SID"),
            ("drafts", self.drafter_backend, "templates, no ANTHROPIC_API_KEY"),
            ("billing", self.billing_backend, "off, no STRIPE_SECRET_KEY"),
        ]
        live = ("twilio", "claude", "stripe")
        parts = [f"{name}={backend if backend in live else off}" for name, backend, off in services]
        where = f"db={without_secrets(self.database_url)} redis={without_secrets(self.redis_url)}"
        return f"loopstrat env={self.env} {where} " + "; ".join(parts)


# Twilio refuses a ValidityPeriod outside 1..36,000 seconds (error 21624).
TWILIO_MAX_VALIDITY_PERIOD_S = 36_000
_FLOATS = {
    "DRAFT_BUDGET_S": "draft_budget_s",
    "TWILIO_TIMEOUT_S": "twilio_timeout_s",
    "PLAN_PRICE_USD": "plan_price_usd",
    "SMS_SEGMENT_PRICE_USD": "sms_segment_price_usd",
    "AI_INPUT_USD_PER_MTOK": "ai_input_usd_per_mtok",
    "AI_OUTPUT_USD_PER_MTOK": "ai_output_usd_per_mtok",
    "SESSION_HOURS": "session_hours",
}
_INTS = {
    "VALIDITY_PERIOD_S": "validity_period_s",
    "INTAKE_MAX_BODY_BYTES": "intake_max_body_bytes",
    "INTAKE_RATE_PER_KEY_PER_MIN": "intake_rate_per_key_per_min",
    "INTAKE_RATE_PER_IP_PER_MIN": "intake_rate_per_ip_per_min",
    "SIGN_IN_RATE_PER_EMAIL_PER_MIN": "sign_in_rate_per_email_per_min",
    "SIGN_IN_RATE_PER_IP_PER_MIN": "sign_in_rate_per_ip_per_min",
    "WORKER_CONCURRENCY": "worker_concurrency",
}
_STRINGS = {
    "LOOPSTRAT_ENV": "env",
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "SECRET_KEY": "secret_key",
    "ENCRYPTION_KEY": "encryption_key",
    "PUBLIC_BASE_URL": "public_base_url",
    "TWILIO_ACCOUNT_SID": "twilio_account_sid",
    "TWILIO_AUTH_TOKEN": "twilio_auth_token",
    "TWILIO_API_BASE": "twilio_api_base",
    "ANTHROPIC_API_KEY": "anthropic_api_key",
    "ANTHROPIC_MODEL": "anthropic_model",
    "ANTHROPIC_BASE_URL": "anthropic_base_url",
    "STRIPE_SECRET_KEY": "stripe_secret_key",
    "STRIPE_WEBHOOK_SECRET": "stripe_webhook_secret",
    "STRIPE_API_BASE": "stripe_api_base",
    "AIRTABLE_API_URL": "airtable_api_url",
}
_URLS = (
    "PUBLIC_BASE_URL",
    "TWILIO_API_BASE",
    "ANTHROPIC_BASE_URL",
    "STRIPE_API_BASE",
    "AIRTABLE_API_URL",
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment; raise ConfigError naming the first bad value."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name, attr in _STRINGS.items():
        if env.get(name, "").strip():
            values[attr] = env[name].strip()
    for name, attr in _FLOATS.items():
        if env.get(name, "").strip():
            values[attr] = _positive(name, env[name], float)
    for name, attr in _INTS.items():
        if env.get(name, "").strip():
            values[attr] = _positive(name, env[name], int)
    port = env.get("PORT", "").strip()
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"PORT={port!r} must be a TCP port number, e.g. 5001")
        values["port"] = int(port)
    # Unset, the public URL is this machine's own web process, on the port it listens on.
    values.setdefault("public_base_url", f"http://127.0.0.1:{values.get('port', 5000)}")
    hops = env.get("TRUSTED_PROXY_HOPS", "").strip()
    if hops:
        if not hops.isdigit():
            raise ConfigError(f"TRUSTED_PROXY_HOPS={hops!r} must be a whole number (0 = no proxy)")
        values["trusted_proxy_hops"] = int(hops)
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _positive(name: str, raw: str, kind: type[float] | type[int]) -> float | int:
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero, got {raw!r}")
    return value


def _validate(s: Settings) -> None:
    for name in _URLS:
        url = getattr(s, _STRINGS[name])
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"{name}={url!r} must be an http(s) URL like https://example.com")
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", s.database_url):
        raise ConfigError("DATABASE_URL must start with sqlite:// or postgresql://")
    if not re.match(r"^rediss?://", s.redis_url):
        raise ConfigError("REDIS_URL must start with redis:// or rediss://")
    if s.twilio_account_sid and not re.fullmatch(r"AC[0-9a-fA-F]{32}", s.twilio_account_sid):
        raise ConfigError("TWILIO_ACCOUNT_SID must be 'AC' followed by 32 hex characters")
    if bool(s.twilio_account_sid) != bool(s.twilio_auth_token):
        raise ConfigError("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither")
    if s.validity_period_s > TWILIO_MAX_VALIDITY_PERIOD_S:
        raise ConfigError(f"VALIDITY_PERIOD_S must be at most {TWILIO_MAX_VALIDITY_PERIOD_S}")
    if s.stripe_secret_key and not s.stripe_secret_key.startswith(("sk_", "rk_")):
        raise ConfigError("STRIPE_SECRET_KEY must start with sk_ or rk_")
    if s.env not in ENVIRONMENTS:
        raise ConfigError(f"LOOPSTRAT_ENV={s.env!r} must be one of {', '.join(ENVIRONMENTS)}")
    _validate_encryption_key(s.encryption_key)
    if s.env == "production":
        _validate_production_keys(s)


def _validate_encryption_key(value: str) -> None:
    if not value:
        return
    keys = [key.strip() for key in value.split(",")]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            # Never echo the value: it is (or is meant to be) a secret.
            raise ConfigError(
                f"ENCRYPTION_KEY key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                f"base64 bytes; several keys are comma-separated, newest first); make one with "
                f"{MAKE_FERNET_KEY}"
            ) from None


def _validate_production_keys(s: Settings) -> None:
    hint = " (for a local run set LOOPSTRAT_ENV=development; `make run` writes it to .env)"
    if s.secret_key == DEV_SECRET_KEY or len(s.secret_key) < SECRET_KEY_MIN_CHARS:
        raise ConfigError(
            f"SECRET_KEY must be set in production to at least {SECRET_KEY_MIN_CHARS} random "
            f"characters; make one with {MAKE_SECRET_KEY}{hint}"
        )
    if not s.encryption_key:
        raise ConfigError(
            f"ENCRYPTION_KEY must be set in production (it encrypts each account's Airtable "
            f"token); make one with {MAKE_FERNET_KEY}{hint}"
        )


def derived_fernet_key(secret_key: str) -> bytes:
    """The key used when ENCRYPTION_KEY is unset: also how tokens stored before ENCRYPTION_KEY
    was set can still be read once (`loopstrat rotate-secrets --from-secret-key`)."""
    return base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest())


def without_secrets(url: str) -> str:
    """A service URL fit for a banner or a log: no user name, no password."""
    parsed = urlparse(url)
    if parsed.scheme.startswith("sqlite") or "@" not in parsed.netloc:
        return url
    return parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[1]).geturl()


def load_dotenv_file(path: str = ".env") -> None:
    """Development convenience: values in .env fill in what the environment leaves unset."""
    if os.path.exists(path):
        from dotenv import load_dotenv

        load_dotenv(path, override=False)
