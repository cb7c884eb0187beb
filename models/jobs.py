"""Background jobs (issue 11): long work run by a worker, with owner, unit, progress and file."""

import enum
from datetime import datetime
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

import clock

from . import db


class JobStatus(enum.StrEnum):
    """Queued → running → done or failed; a failed or stalled job may be run again."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


STATUS_LABELS = {
    JobStatus.QUEUED: _l("Waiting"),
    JobStatus.RUNNING: _l("Running"),
    JobStatus.DONE: _l("Finished"),
    JobStatus.FAILED: _l("Failed"),
}

#: What a stalled job (jobs.stalled) shows instead: why it stopped, and what to do.
STALLED_LABELS = {
    JobStatus.QUEUED: _l("Not started: it waited too long in the queue (the queue may have "
                         "lost it). Nothing was saved. Press Run again."),
    JobStatus.RUNNING: _l("Stopped part way (the machine doing the work stopped). Nothing "
                          "half done was saved. Press Run again."),
}


class Job(db.Model):
    """One run of long work; its unit is the owner's, so the levels above may read it too."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_owner_created", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    province_code: Mapped[str | None] = mapped_column(String(2), index=True)
    lao_id: Mapped[int | None] = mapped_column(Integer, index=True)
    institution_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # With title_values the title is an English sentence, shown in each reader's language;
    # without (older jobs) it was translated once when the job was submitted.
    title: Mapped[str] = mapped_column(String(200), default="")
    title_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The submitter's language: the job's messages and result read as its owner asked.
    language: Mapped[str | None] = mapped_column(String(8))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    result_path: Mapped[str | None] = mapped_column(String(400))
    result_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the last attempt ended; on a job queued again, when it was re-run.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    owner = relationship("User")

    def __str__(self) -> str:
        return f"{self.kind} #{self.id}"

    @property
    def shown_title(self) -> str:
        """The title in the reader's language; an older job's was stored already translated."""
        if self.title_values is None:
            return self.title or self.kind
        return title_in_language(self.title, self.title_values)


def title_in_language(text: str, values: dict[str, Any]) -> str:
    """A job title's English sentence in the reader's language, with each value that is a
    message itself (a list's name, kept as {"message": its English}) translated too."""
    return gettext(text, **{key: _translated(value) for key, value in values.items()})


def _translated(value: Any) -> Any:
    """A title's value in the reader's language: a message is kept as {"message": English}."""
    if not isinstance(value, dict):
        return value
    english = value["message"]
    return gettext(english)
