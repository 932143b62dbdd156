"""The evidence package of a release: one zip with everything an auditor asks for.

manifest.json            release, when it was built, and the SHA-256 and size of every file
reports/<id>.json        each acceptance report: status, decision, fingerprint, metrics, criteria
reports/<id>.pdf         each report's PDF, where one was rendered
signoffs.csv             every signature with its details, current or stale
audit-events.csv         the release's audit trail
defects.csv              the release's defects
executions.csv           every execution of the release's plans
step-results.csv         every step result of those executions
evidence/<execution>/<n>-<name>   the evidence files, as uploaded

The CSVs are tables of ``uat.tables``: the columns the API's exports and the admin's use,
and every cell guarded so that a spreadsheet opens text like ``=HYPERLINK(...)`` as text.
``<execution>`` is the execution's ``uuid`` column.
"""

import hashlib
import json
import tempfile
import zipfile
from pathlib import PurePosixPath

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from uat.audit import event_record
from uat.downloads import download_filename, download_filename_of
from uat.models import Defect, Event, Evidence, Execution, Release, StepResult
from uat.policy import can_build_evidence_package, policy_require
from uat.tables import AUDIT_EVENTS, DEFECTS, EXECUTIONS, SIGNOFFS, STEP_RESULTS, csv_bytes

from .currency import CURRENT, report_states, signoff_state
from .jobs import Job, job_claim, job_enqueue
from .models import AcceptanceReport, EvidencePackage, ReportStatus, SignOff

CHUNK = 1024 * 1024


class _Package:
    """A zip being written, keeping the hash and size of each file for the manifest."""

    def __init__(self, target):
        self.zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)
        self.files: dict[str, dict] = {}

    def add(self, name: str, content: bytes) -> None:
        self.zip.writestr(name, content)
        self.files[name] = {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}

    def add_stream(self, name: str, stream) -> None:
        digest, size = hashlib.sha256(), 0
        with self.zip.open(name, "w") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.files[name] = {"sha256": digest.hexdigest(), "size": size}

    def close(self, release: Release) -> None:
        manifest = {
            "release": str(release),
            "product": release.product.slug,
            "version": release.version,
            "built_at": timezone.now().isoformat(),
            "files": dict(sorted(self.files.items())),
        }
        self.zip.writestr("manifest.json", json.dumps(manifest, indent=2))
        self.zip.close()


def _reports(package: _Package, release: Release) -> dict[int, str]:
    """Add every report; return the state of each ready one (by report id)."""
    reports = list(
        AcceptanceReport.objects.filter(plan__release=release)
        .select_related("plan")
        .order_by("created_at", "pk")
    )
    states = report_states(reports)
    for report in reports:
        data = {
            "id": str(report.uuid),
            "plan": str(report.plan),
            "status": report.status,
            "decision": report.decision,
            "fingerprint": report.fingerprint,
            "fresh": states.get(report.pk) == CURRENT,
            "created_at": report.created_at.isoformat(),
            "finished_at": report.finished_at.isoformat() if report.finished_at else None,
            "metrics": report.metrics,
            "criteria": report.criteria,
        }
        package.add(f"reports/{report.uuid}.json", json.dumps(data, indent=2, default=str).encode())
        if report.pdf:
            with report.pdf.open("rb") as pdf:
                package.add_stream(f"reports/{report.uuid}.pdf", pdf)
    return states


def _signoffs(package: _Package, release: Release, states: dict[int, str]) -> None:
    signoffs = SignOff.objects.filter(report__plan__release=release).select_related("report")

    def with_state():
        for s in signoffs.order_by("signed_at"):
            s.state = signoff_state(s, states.get(s.report_id))
            yield s

    package.add("signoffs.csv", csv_bytes(SIGNOFFS, with_state()))


def _records(package: _Package, release: Release) -> None:
    events = Event.objects.filter(release=release).select_related("actor", "content_type")
    events = events.order_by("created_at", "id")
    package.add("audit-events.csv", csv_bytes(AUDIT_EVENTS, events.iterator(chunk_size=2000)))
    defects = Defect.objects.filter(release=release).with_details()
    defects = defects.prefetch_related("executions").order_by("pk")
    package.add("defects.csv", csv_bytes(DEFECTS, defects.iterator(chunk_size=2000)))
    executions = Execution.objects.filter(plan__release=release).with_details().order_by("pk")
    package.add("executions.csv", csv_bytes(EXECUTIONS, executions.iterator(chunk_size=2000)))
    steps = StepResult.objects.filter(execution__plan__release=release).select_related("execution")
    steps = steps.order_by("execution_id", "position")
    package.add("step-results.csv", csv_bytes(STEP_RESULTS, steps.iterator(chunk_size=2000)))


def _evidence(package: _Package, release: Release) -> None:
    files = Evidence.objects.filter(execution__plan__release=release).select_related("execution")
    for number, evidence in enumerate(files.order_by("pk").iterator(chunk_size=500), start=1):
        # Only the last part of the uploaded name, made safe: no directories, no "..".
        uploaded = PurePosixPath(evidence.original_name.replace("\\", "/")).name
        name = download_filename_of(f"{number}-{uploaded}")
        with evidence.file.open("rb") as stream:
            package.add_stream(f"evidence/{evidence.execution.uuid}/{name}", stream)


QUEUE_DOWN = (
    "The job queue cannot be reached just now: the evidence package will be built as soon "
    "as it is back."
)

# A package's build, like a report's: pending → running (claimed) → ready or failed. A
# package the broker could not take stays pending with QUEUE_DOWN for whoever asked.
# It is reclaimed only after its task's time limit, longer than a report's.
EVIDENCE_PACKAGE = Job(
    what="evidence package",
    lost="evidence package(s) nobody was building",
    model=EvidencePackage,
    task="reports.tasks.evidence_package_build",
    waiting=Q(status=ReportStatus.PENDING),
    on_queue={"error": ""},
    on_down={"error": QUEUE_DOWN},
    running=Q(status=ReportStatus.RUNNING),
    claimed={"status": ReportStatus.RUNNING, "error": ""},
    reclaim_after="EVIDENCE_PACKAGE_RECLAIM_AFTER_SECONDS",
)
UNBUILT = (ReportStatus.PENDING, ReportStatus.RUNNING)


@transaction.atomic
def evidence_package_request(*, release: Release, actor) -> tuple[EvidencePackage, bool]:
    """The package of ``release`` being built, if one is pending or running, else a new
    pending one whose build is queued after commit. Returns it and whether it is new.

    A zip holds every file of the release: five people asking at once get one build,
    not five (the release row is locked; a partial unique constraint holds it too)."""
    policy_require(can_build_evidence_package(actor, release), "build_evidence_package")
    Release.objects.select_for_update().get(pk=release.pk)
    building = EvidencePackage.objects.filter(release=release, status__in=UNBUILT).first()
    if building is not None:
        return building, False
    package = EvidencePackage.objects.create(release=release, requested_by=actor)
    event_record(actor=actor, verb="evidence_package.requested", obj=package, release=release)
    transaction.on_commit(lambda: job_enqueue(EVIDENCE_PACKAGE, [package]))
    return package, True


def evidence_package_build_now(*, package_id: int) -> EvidencePackage | None:
    """Build a pending package (or one whose worker died, ``jobs.job_claim``). Only the
    run that claims it builds it, so a task delivered twice builds once; returns None to
    the others. A failed build marks the package failed with its error, and raises."""
    if not job_claim(EVIDENCE_PACKAGE, package_id):
        return None
    package = EvidencePackage.objects.select_related("release__product").get(pk=package_id)
    building = EvidencePackage.objects.filter(pk=package.pk, status=ReportStatus.RUNNING)
    try:
        _zip(package)
    except Exception as error:
        building.update(
            status=ReportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    building.update(
        file=package.file.name,
        size=package.size,
        sha256=package.sha256,
        status=ReportStatus.READY,
        finished_at=timezone.now(),
    )
    package.refresh_from_db()
    return package


def _zip(package: EvidencePackage) -> None:
    """Write the package's zip to storage; set its file, size and SHA-256 (unsaved)."""
    release = package.release
    with tempfile.TemporaryFile() as target:
        builder = _Package(target)
        try:
            states = _reports(builder, release)
            _signoffs(builder, release, states)
            _records(builder, release)
            _evidence(builder, release)
            builder.close(release)
        finally:
            builder.zip.close()  # after an error too, before its file goes (a no-op if closed)
        target.seek(0)
        package.sha256 = hashlib.file_digest(target, "sha256").hexdigest()
        target.seek(0)
        name = download_filename(
            "evidence", release.product.slug, release.version, package.uuid.hex[:8], ext="zip"
        )
        package.file.save(name, File(target), save=False)
        package.size = package.file.size
