"""`auth-adapter`: flags for where to listen, the environment for secrets; serve until SIGTERM or SIGINT.

Secrets (VALID_TOKENS, JWT_SECRET, RECAPTCHA_SECRET_V2/V3) are read from the environment only, never from
flags, so they stay out of the process list; none is ever logged.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

import gateway_config
from service_runtime import ServerSettings, add_server_flags, run, setup_logging

from auth_adapter import __version__
from auth_adapter.authorizer import Authorizer
from auth_adapter.ratelimit import RateLimiter
from auth_adapter.recaptcha import Recaptcha, RecaptchaSettings
from auth_adapter.server import PORT, WORKERS, build_server
from auth_adapter.tokens import TokenValidator

log = logging.getLogger("auth_adapter")
EXIT_BAD_INPUT = 2


def parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="auth-adapter",
        description="Envoy external authorization (envoy.service.auth.v3.Authorization/Check) with "
        "gRPC health and reflection. Secrets come from the environment: VALID_TOKENS (comma-separated "
        "static tokens), JWT_SECRET (HS256 key), RECAPTCHA_SECRET_V2/V3; RECAPTCHA_URL (empty: off).",
    )
    p.add_argument(
        "--config",
        default=env.get("CONFIG_FILE", "/opt/auth-adapter/config.yaml"),
        help="the gateway config.yaml (CONFIG_FILE, default /opt/auth-adapter/config.yaml)",
    )
    add_server_flags(p, env, port=PORT, workers=WORKERS)
    p.add_argument("--version", action="version", version=f"auth-adapter {__version__}")
    return p


def build(
    config: gateway_config.GatewayConfig, env: Mapping[str, str], limiter: RateLimiter | None = None
) -> Authorizer:
    static = [t.strip() for t in env.get("VALID_TOKENS", "").split(",") if t.strip()]
    tokens = TokenValidator(
        static, env.get("JWT_SECRET") or None, config.jwt, config.static_token_permissions
    )
    recaptcha = Recaptcha(
        RecaptchaSettings(
            url=env.get("RECAPTCHA_URL") or None,
            secret_v2=env.get("RECAPTCHA_SECRET_V2") or None,
            secret_v3=env.get("RECAPTCHA_SECRET_V3") or None,
            v3_min_score=config.recaptcha.v3_min_score,
            timeout_seconds=config.recaptcha.timeout_seconds,
        )
    )
    fields = {
        "static_tokens": tokens.static_count,
        "jwt": tokens.accepts_jwt,
        "recaptcha": recaptcha.enabled,
        "policies": len(config.policies()),
        "routes": len(gateway_config.build_routes(config)),
    }
    log.info("configured", extra={"fields": fields})
    if not static and not tokens.accepts_jwt:
        log.warning("neither VALID_TOKENS nor JWT_SECRET is set: every token is refused")
    return Authorizer(config, tokens, limiter or RateLimiter(), recaptcha)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = parser(env).parse_args(argv)
    setup_logging(args.log_level)
    try:
        config = gateway_config.load(args.config)
    except gateway_config.ConfigError as exc:
        log.error("bad configuration", extra={"fields": {"error": str(exc)}})
        return EXIT_BAD_INPUT
    try:
        run(build_server(ServerSettings.from_args(args), build(config, env)))
    except OSError as exc:
        log.error("cannot start", extra={"fields": {"reason": str(exc)}})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
