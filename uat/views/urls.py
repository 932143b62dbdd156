"""The tester and stakeholder pages of the testing work, under the ``uat`` namespace.
Every route here needs an entry in tests/test_routes.py."""

from django.urls import path

from . import audit, defects, waivers, work

app_name = "uat"
urlpatterns = [
    path("work/", work.inbox, name="inbox"),
    path("work/next/", work.next_case, name="next_case"),
    path("executions/<uuid:uuid>/", work.execution_page, name="execution"),
    path("executions/<uuid:uuid>/draft/", work.execution_draft, name="execution_draft"),
    path("executions/<uuid:uuid>/evidence/", work.evidence_upload, name="evidence_upload"),
    path(
        "executions/<uuid:uuid>/evidence/<int:pk>/",
        work.evidence_download,
        name="evidence",
    ),
    path("executions/<uuid:uuid>/defects/new/", defects.defect_new, name="defect_new"),
    path("defects/", defects.defect_list, name="defect_list"),
    path("defects/mine/", defects.my_defects, name="my_defects"),
    path("defects/<int:pk>/", defects.defect_detail, name="defect"),
    path("defects/<int:pk>/transition/", defects.defect_transition, name="defect_transition"),
    path("defects/<int:pk>/comments/", defects.defect_comment, name="defect_comment"),
    # A release's audit trail, evidence packages and waivers (QA leads, stakeholders).
    path("releases/<int:release_id>/audit/", audit.release_audit, name="release_audit"),
    path(
        "releases/<int:release_id>/evidence-package/",
        audit.evidence_package_create,
        name="evidence_package_create",
    ),
    path(
        "evidence-packages/<uuid:package_uuid>/",
        audit.evidence_package_download,
        name="evidence_package_download",
    ),
    path("releases/<int:release_id>/waivers/", waivers.release_waivers, name="release_waivers"),
    path(
        "releases/<int:release_id>/waivers/defects/<int:defect_id>/",
        waivers.waiver_create,
        name="waiver_grant",
    ),
    path(
        "releases/<int:release_id>/waivers/<int:waiver_id>/revoke/",
        waivers.waiver_end,
        name="waiver_revoke",
    ),
]
