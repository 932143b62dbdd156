"""The tester pages. Every route here needs an entry in tests/test_routes.py."""

from django.urls import path

from . import defects, work

app_name = "uat"
urlpatterns = [
    path("work/", work.inbox, name="inbox"),
    path("work/next/", work.next_case, name="next_case"),
    path("executions/<uuid:uuid>/", work.execution_page, name="execution"),
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
]
