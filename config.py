"""Settings read from the environment, with safe defaults for the embedded SQLite setup."""

import os
from datetime import timedelta


class Config:
    """Defaults; `LEC_*` environment variables override them (see README)."""

    SQLALCHEMY_DATABASE_URI = os.environ.get("LEC_DATABASE_URL")
    SECRET_KEY = os.environ.get("LEC_SECRET_KEY")
    REDIS_URL = os.environ.get("LEC_REDIS_URL")
    # How many reverse proxies (nginx, a load balancer) stand in front of the app: their
    # X-Forwarded-For/-Proto/-Host are believed that many hops deep, never more (README).
    LEC_TRUSTED_PROXIES = int(os.environ.get("LEC_TRUSTED_PROXIES", "0"))
    BABEL_DEFAULT_LOCALE = "th"
    BABEL_DEFAULT_TIMEZONE = "Asia/Bangkok"
    LANGUAGES = ("th", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("LEC_SECURE_COOKIES", "0") == "1"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = None
    FLASK_ADMIN_SWATCH = "default"
    # Refuse a huge upload before its body is spooled; learner files are far smaller.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
