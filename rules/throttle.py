"""The one throttle: how often a key (an account and address, an address, an account) may act.

Used by sign-in (growing delays per account and address, never a lock), the public admission
form (per real client address) and check by ID (per account). Counts live in Redis when
LEC_REDIS_URL is set, else in the database, so every worker sees the same numbers. They are
bookkeeping, not business records: the audit log leaves them out.
"""

import logging
import time
import uuid
from typing import Any, Protocol

from sqlalchemy import delete, func, select

from models import ThrottleHit, db

log = logging.getLogger(__name__)

#: The longest window any limit uses; older hits are pruned as new ones come.
LONGEST_WINDOW = 3600


def clock() -> float:
    """Seconds since the epoch; tests replace it to travel in time."""
    return time.time()


class Store(Protocol):
    """Where hits are counted, shared by every worker."""

    def hit(self, key: str, now: float) -> None: ...
    def hits(self, key: str, now: float, window: int) -> tuple[int, float]: ...
    def clear(self, key: str) -> None: ...


class DatabaseStore:
    """The embedded default: one row per hit, rows older than the longest window pruned.

    A hit is committed at once, so it counts whatever the request does next; callers count
    before they change anything.
    """

    def hit(self, key: str, now: float) -> None:
        db.session.execute(delete(ThrottleHit).where(ThrottleHit.key == key[:200],
                                                     ThrottleHit.at <= now - LONGEST_WINDOW))
        db.session.add(ThrottleHit(key=key[:200], at=now))
        db.session.commit()

    def hits(self, key: str, now: float, window: int) -> tuple[int, float]:
        count, latest = db.session.execute(
            select(func.count(), func.max(ThrottleHit.at)).where(
                ThrottleHit.key == key[:200], ThrottleHit.at > now - window)).one()
        return count or 0, latest or 0.0

    def clear(self, key: str) -> None:
        db.session.execute(delete(ThrottleHit).where(ThrottleHit.key == key[:200]))


class RedisStore:
    """Production: a sorted set of hit times per key, expiring with the longest window."""

    def __init__(self, url: str, prefix: str = "lec:throttle:") -> None:
        import redis

        # A Redis that does not answer costs a sign-in at most this long, then the database
        # counts instead (FallbackStore).
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.prefix = prefix

    def hit(self, key: str, now: float) -> None:
        name = self.prefix + key
        with self.redis.pipeline() as pipe:
            pipe.zremrangebyscore(name, 0, now - LONGEST_WINDOW)
            pipe.zadd(name, {uuid.uuid4().hex: now})
            pipe.expire(name, LONGEST_WINDOW)
            pipe.execute()

    def hits(self, key: str, now: float, window: int) -> tuple[int, float]:
        name = self.prefix + key
        with self.redis.pipeline() as pipe:
            pipe.zcount(name, f"({now - window}", "+inf")
            pipe.zrange(name, -1, -1, withscores=True)
            count, latest = pipe.execute()
        return int(count), (latest[0][1] if latest else 0.0)

    def clear(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


class Throttle:
    """Limits over one store: a fixed allowance per window, or growing delays after a few."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def allow(self, key: str, limit: int, window: int) -> bool:
        """Count this use of `key`; False (and not counted) once `limit` uses fill the window."""
        now = clock()
        if self.store.hits(key, now, window)[0] >= limit:
            return False
        self.store.hit(key, now)
        return True

    def used_up(self, key: str, limit: int, window: int) -> bool:
        """Whether `limit` uses already fill the window, without counting this one: for a limit
        that counts only some outcomes, recorded afterwards with `count`."""
        return self.store.hits(key, clock(), window)[0] >= limit

    def count(self, key: str) -> None:
        """Count one use of `key` for a limit checked with `used_up`."""
        self.store.hit(key, clock())

    def wait(self, key: str, free: int, base: float = 1.0, cap: float = 900.0,
             window: int = LONGEST_WINDOW) -> float:
        """Seconds still to wait: 0 for the first `free` failures, then base·2ⁿ, at most `cap`."""
        now = clock()
        count, latest = self.store.hits(key, now, window)
        if count < free:
            return 0.0
        delay = min(cap, base * 2 ** min(count - free, 30))
        return max(0.0, latest + delay - now)

    def failed(self, key: str) -> None:
        self.store.hit(key, clock())

    def clear(self, key: str) -> None:
        self.store.clear(key)


class FallbackStore:
    """Redis, and the database while Redis does not answer: sign-in stays throttled and
    working (never a 500) when Redis is down; Redis is tried again after RETRY seconds."""

    RETRY = 30.0

    def __init__(self, primary: RedisStore, fallback: Store) -> None:
        self.primary, self.fallback = primary, fallback
        self.down_until = 0.0

    def _use(self, name: str, *args: Any) -> Any:
        import redis

        if time.monotonic() >= self.down_until:
            try:
                return getattr(self.primary, name)(*args)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.error("throttle: Redis does not answer (%s); counting in the database", exc)
                self.down_until = time.monotonic() + self.RETRY
        return getattr(self.fallback, name)(*args)

    def hit(self, key: str, now: float) -> None:
        self._use("hit", key, now)

    def hits(self, key: str, now: float, window: int) -> tuple[int, float]:
        return self._use("hits", key, now, window)

    def clear(self, key: str) -> None:
        self._use("clear", key)


def store_for(redis_url: str | None) -> Store:
    """Redis when configured (several workers and hosts), falling back to the database while
    it is down; else the database."""
    return FallbackStore(RedisStore(redis_url), DatabaseStore()) if redis_url else DatabaseStore()
