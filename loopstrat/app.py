"""The Flask app factory: wiring only. Nothing happens at import time."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from loopstrat import runtime
from loopstrat.config import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    rt = runtime.configure(settings) if settings is not None else runtime.current()
    app = Flask(__name__, template_folder="../templates")
    hops = rt.settings.trusted_proxy_hops
    if hops:
        # Behind a load balancer every request comes from its address: the per-IP rate limit
        # and the consent evidence need the client's, from X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=rt.settings.secret_key,
        MAX_CONTENT_LENGTH=rt.settings.intake_max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    from loopstrat.dashboard import bp as dashboard_bp
    from webhooks.leads import bp as leads_bp
    from webhooks.twilio import bp as twilio_bp

    app.register_blueprint(leads_bp)
    app.register_blueprint(twilio_bp)
    app.register_blueprint(dashboard_bp)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_exc: RequestEntityTooLarge) -> tuple[Response, int]:
        limit = rt.settings.intake_max_body_bytes
        return jsonify({"errors": {"body": f"larger than {limit} bytes"}}), 413

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True})

    log.info(rt.settings.banner())
    if rt.settings.proxy_warning:
        log.warning(rt.settings.proxy_warning)
    return app
