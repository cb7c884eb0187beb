"""The health check of load balancers: the app answers only if what it needs answers too."""

import logging
from typing import Any

from flask import Flask
from sqlalchemy import text

from models import db

log = logging.getLogger(__name__)

#: Seconds a health check waits for Redis: a load balancer asks often and wants a quick answer.
REDIS_TIMEOUT = 1.0


def redis_urls(app: Flask) -> set[str]:
    """The Redis servers the app uses: the throttle's (LEC_REDIS_URL) and the jobs' queue."""
    return {url for url in (app.config.get("REDIS_URL"), app.config.get("LEC_JOBS_REDIS_URL"))
            if url}


def _database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "down"
        log.exception("health check: the database does not answer")
        db.session.rollback()
        return False


def _redis(url: str) -> bool:
    import redis

    client: Any = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT,
                                       socket_timeout=REDIS_TIMEOUT)
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        log.error("health check: Redis does not answer: %s", exc)
        return False
    finally:
        client.close()


def check(app: Flask) -> tuple[dict[str, str], int]:
    """200 and what was checked when all answer; 503 naming what is down otherwise."""
    found = {"database": "ok" if _database() else "down"}
    if urls := redis_urls(app):
        found["redis"] = "ok" if all(_redis(url) for url in sorted(urls)) else "down"
    healthy = all(state == "ok" for state in found.values())
    return {"status": "ok" if healthy else "unavailable", **found}, 200 if healthy else 503
