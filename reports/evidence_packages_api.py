"""The evidence package over the API: ask for a release's zip (202 with its URL; the same
package while one is being built), then read its status and, once ready, download it.
For QA leads and the release's stakeholders, as on the audit page; anyone else gets 404."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from uat.downloads import download_filename_of
from uat.policy import can_build_evidence_package, policy_require
from uat.views.audit import release_for_audit

from .evidence_packages import evidence_package_request
from .models import EvidencePackage, ReportStatus


class EvidencePackageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(help_text="Null until the zip is ready.")

    class Meta:
        model = EvidencePackage
        fields = (
            "id",
            "url",
            "release",
            "status",
            "sha256",
            "size",
            "error",
            "created_at",
            "finished_at",
            "download_url",
        )
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, package) -> str:
        return self._absolute(reverse("evidence-package-detail", args=[package.uuid]))

    def get_download_url(self, package) -> str | None:
        if package.status != ReportStatus.READY:
            return None
        return self._absolute(reverse("evidence-package-file", args=[package.uuid]))


def _package_for(user, uuid) -> EvidencePackage:
    package = get_object_or_404(EvidencePackage.objects.select_related("release"), uuid=uuid)
    release_for_audit(user, package.release_id)
    return package


class ReleaseEvidencePackageView(APIView):
    """POST: build a new evidence package of the release, or, while one is pending or
    running, answer with that one (202, with its URL to poll; ``error`` says when the
    job queue could not take it yet). GET: the release's newest package."""

    @extend_schema(request=None, responses={202: EvidencePackageSerializer})
    def post(self, request, pk: int):
        release = release_for_audit(request.user, pk)
        policy_require(can_build_evidence_package(request.user, release), "build_evidence_package")
        package, _ = evidence_package_request(release=release, actor=request.user)
        body = EvidencePackageSerializer(package, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    @extend_schema(responses={200: EvidencePackageSerializer})
    def get(self, request, pk: int):
        release = release_for_audit(request.user, pk)
        package = EvidencePackage.objects.filter(release=release).order_by("-created_at").first()
        if package is None:
            raise Http404("No evidence package has been built for this release.")
        return Response(EvidencePackageSerializer(package, context={"request": request}).data)


class EvidencePackageView(APIView):
    """One evidence package: its status, SHA-256, size and download link."""

    @extend_schema(responses={200: EvidencePackageSerializer})
    def get(self, request, uuid):
        package = _package_for(request.user, uuid)
        return Response(EvidencePackageSerializer(package, context={"request": request}).data)


class EvidencePackageFileView(APIView):
    """The zip itself, once ready."""

    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request, uuid):
        package = _package_for(request.user, uuid)
        if package.status != ReportStatus.READY:
            raise Http404("This evidence package is not ready.")
        return FileResponse(
            package.file.open("rb"),
            as_attachment=True,
            filename=download_filename_of(package.file.name),
            content_type="application/zip",
        )
