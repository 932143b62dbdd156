"""The one mechanism every background job goes through: report builds, report emails,
webhook deliveries and evidence packages alike.

A job is a row that wants its Celery task run. Its ``Job`` says which rows are waiting,
which field remembers when their task was last queued, and (for jobs a worker claims
whole) which status a claimed row has. Then, for every kind the same way:

- ``job_enqueue`` marks a row queued and sends its task — after commit, by the caller.
  When the broker cannot be reached the row stays saved and waiting, unmarked, with the
  kind's note for the people who asked; nothing raises into their request.
- ``job_claim`` moves a waiting row to running with one conditional update, so a task
  delivered twice does the work once. A running row whose claim is older than the
  kind's reclaim age lost its worker (no live task runs past its time limit): it may be
  claimed again, so a redelivered or swept task heals it.
- ``job_sweep`` (the sweeper, beat every minute) queues again the rows nobody is working
  on: waiting but not queued in the last ``REPORT_SWEEP_AFTER_SECONDS`` (their task was
  lost, or never sent), and running past the reclaim age (their worker died).

Report emails and webhook deliveries claim their own work (each recipient's email, each
attempt) and have no ``running``; they use the enqueue and the sweep.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One kind of background job, as the mechanism sees it."""

    what: str  # names one in the log: "acceptance report", "webhook delivery"
    lost: str  # names those the sweeper queued again, in its log
    model: type[models.Model]
    task: str  # the Celery task's dotted path; it is sent the row's id
    waiting: Q  # rows wanting their task: pending (or, for emails, wanted or queued)
    queued_at: str = "queued_at"  # when the task was last queued (or ran, or is due)
    otherwise: str = "created_at"  # counts instead while it was never queued
    on_queue: dict = field(default_factory=dict)  # also set when its task is queued
    on_down: dict = field(default_factory=dict)  # also set when the broker is down
    running: Q | None = None  # a claimed row; None: the kind claims its own work
    claimed: dict = field(default_factory=dict)  # set by the claim, with started_at
    started_at: str = "started_at"
    reclaim_after: str = "REPORT_RECLAIM_AFTER_SECONDS"  # the setting with the age
    fields: tuple[str, ...] = ("uuid",)  # what the log and ``kwargs`` read of a row
    kwargs: Callable[[models.Model], dict] = lambda row: {}  # more for the task

    @property
    def outstanding(self) -> Q:
        """Rows whose task may be queued: waiting, or claimed (a dead worker's)."""
        return self.waiting if self.running is None else self.waiting | self.running

    def reclaim_before(self, now: dt.datetime) -> dt.datetime:
        """A claim older than this lost its worker."""
        return now - dt.timedelta(seconds=getattr(settings, self.reclaim_after))


def job_enqueue(job: Job, rows: Iterable[models.Model]) -> int:
    """Send the task of each outstanding row, marking it queued first, so a fast worker's
    own marks come after ours. A row that is no longer outstanding (done meanwhile) is
    skipped. At the first broker failure the row goes back to unqueued, with the kind's
    note, and the rest are left to the sweeper: an unreachable broker costs one timeout,
    and never fails the change that asked for the job. Returns how many were queued."""
    task = import_string(job.task)  # by name: the tasks import the services
    queued = 0
    for row in rows:
        outstanding = job.model.objects.filter(job.outstanding, pk=row.pk)
        marked = {job.queued_at: timezone.now(), **job.on_queue}
        if not outstanding.update(**marked):
            continue
        _assign(row, marked)
        try:
            task.delay(row.pk, **job.kwargs(row))
        except (OperationalError, OSError):
            logger.exception("Could not queue %s %s; the sweeper will", job.what, _name(row))
            unmarked = {job.queued_at: None, **job.on_down}
            outstanding.update(**unmarked)
            _assign(row, unmarked)
            break
        queued += 1
    return queued


def job_claim(job: Job, pk: int) -> bool:
    """Claim the row for this worker: pending, or claimed by a worker that died (its claim
    is older than the reclaim age). One conditional update, so of two tasks for the same
    row only one goes on. Returns whether this one did."""
    now = timezone.now()
    abandoned = job.running & Q(**{f"{job.started_at}__lt": job.reclaim_before(now)})
    claimed = job.model.objects.filter(job.waiting | abandoned, pk=pk).update(
        **job.claimed, **{job.started_at: now}
    )
    if claimed and settings.REPORT_BUILD_DELAY_SECONDS:
        # Test-only: hold a claimed job in "running" so a fault test can kill the worker.
        time.sleep(settings.REPORT_BUILD_DELAY_SECONDS)
    return bool(claimed)


def job_sweep(job: Job) -> int:
    """Queue again the rows nobody is working on — waiting but not queued lately, or
    claimed by a worker that died — but only those not queued in the last
    ``REPORT_SWEEP_AFTER_SECONDS``, so slow workers do not get a copy every minute. The
    work is claimed, so a row queued twice is still done once. Logs how many, for the
    operator: a steady count means tasks keep getting lost."""
    now = timezone.now()
    since = now - dt.timedelta(seconds=settings.REPORT_SWEEP_AFTER_SECONDS)
    lost = job.waiting & last_queued_before(since, queued_at=job.queued_at, otherwise=job.otherwise)
    if job.running is not None:
        abandoned = job.running & Q(**{f"{job.started_at}__lt": job.reclaim_before(now)})
        lost |= abandoned & (
            Q(**{f"{job.queued_at}__isnull": True}) | Q(**{f"{job.queued_at}__lt": since})
        )
    rows = list(job.model.objects.filter(lost).only("pk", *job.fields).order_by("pk"))
    queued = job_enqueue(job, rows)
    if queued:
        logger.warning("The sweeper queued again %d %s", queued, job.lost)
    return queued


def last_queued_before(since: dt.datetime, *, queued_at: str, otherwise: str) -> Q:
    """Queued last before ``since``, or never queued and ``otherwise`` before it (so a
    task queued just now, after its commit, is not queued twice)."""
    return Q(**{f"{queued_at}__lt": since}) | Q(
        **{f"{queued_at}__isnull": True, f"{otherwise}__lt": since}
    )


def _assign(row: models.Model, values: dict) -> None:
    """Keep the caller's copy in step with the row (the answer shows its note)."""
    for name, value in values.items():
        setattr(row, name, value)


def _name(row: models.Model) -> str:
    return str(getattr(row, "uuid", None) or row.pk)
