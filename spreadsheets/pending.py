"""Uploaded files kept on the server between preview and commit: owner-bound, expiring.

The commit re-reads the kept bytes, never rows sent back by the browser.
"""

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import current_app

import clock

KEPT_SECONDS = 3600


@dataclass
class PendingUpload:
    """One kept upload and what it is for."""

    token: str
    purpose: str  # "learners" or "counts": a token is good for its own commit only
    owner: int
    target_id: int  # the institution (learners) or the round (counts) it is for
    year: int
    filename: str
    sha256: str
    kept_at: float

    def data(self) -> bytes:
        return (_folder() / f"{self.token}.bin").read_bytes()


def _folder() -> Path:
    """Beside the job results: the workers that check and write an upload must read it too."""
    folder = Path(current_app.config["LEC_JOBS_DIR"]) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _purge() -> None:
    """Drop kept files older than an hour."""
    limit = clock.now().timestamp() - KEPT_SECONDS
    for path in _folder().glob("*.json"):
        try:
            if json.loads(path.read_text())["kept_at"] < limit:
                discard(path.stem)
        except (OSError, ValueError, KeyError):
            discard(path.stem)


def keep(data: bytes, purpose: str, owner: int, target_id: int, year: int, filename: str
         ) -> PendingUpload:
    """Store the upload under a random token only its owner may use."""
    _purge()
    pending = PendingUpload(secrets.token_urlsafe(18), purpose, owner, target_id, year,
                            filename[:200], hashlib.sha256(data).hexdigest(),
                            clock.now().timestamp())
    (_folder() / f"{pending.token}.bin").write_bytes(data)
    (_folder() / f"{pending.token}.json").write_text(json.dumps(asdict(pending)))
    return pending


def load(token: str, purpose: str, owner: int) -> PendingUpload | None:
    """The kept upload if it exists, belongs to `owner` and has not expired."""
    if not token.replace("-", "").replace("_", "").isalnum():
        return None
    try:
        pending = PendingUpload(**json.loads((_folder() / f"{token}.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None
    expired = pending.kept_at < clock.now().timestamp() - KEPT_SECONDS
    if pending.purpose != purpose or pending.owner != owner or expired:
        return None
    return pending


def discard(token: str) -> None:
    for suffix in (".bin", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)
