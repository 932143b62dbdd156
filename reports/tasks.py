"""Celery tasks of reports: thin, ids in, one service call, safe to run twice."""

from celery import shared_task


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def evidence_package_build(package_id: int) -> None:
    """Build the evidence package ``package_id`` (does nothing if it is not pending)."""
    from .evidence import evidence_package_build_now

    evidence_package_build_now(package_id=package_id)
