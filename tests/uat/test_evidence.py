"""Evidence: the type judged from the content, a size limit, safe names, and files
handed out only to people who may see the execution."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import ExecutionFactory
from uat.evidence_files import sniff_content_type
from uat.services import evidence_attach

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"rest of the image"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"%PDF-1.7\n", "application/pdf"),
        ("Journal: Fehler beim Speichern ✓\n".encode(), "text/plain"),
        (b"MZ\x90\x00\x03", None),  # a Windows executable
        (b"<svg \x00", None),
        (b"\xc3\x28 not utf-8", None),
        (b"", None),
    ],
)
def test_the_type_comes_from_the_content(data, expected):
    assert sniff_content_type(data) == expected


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_a_file_named_like_an_image_but_not_one_is_refused(tester):
    execution = ExecutionFactory(tester=tester)
    with pytest.raises(ValidationError, match="not a PNG, JPEG, PDF or plain text"):
        evidence_attach(
            execution=execution,
            actor=tester,
            upload=upload("shot.png", b"MZ\x90\x00binary", "image/png"),
        )


def test_a_file_over_the_limit_is_refused(tester, settings):
    settings.EVIDENCE_MAX_BYTES = 10
    execution = ExecutionFactory(tester=tester)
    with pytest.raises(ValidationError, match="too large"):
        evidence_attach(execution=execution, actor=tester, upload=upload("a.txt", b"x" * 11))


def test_evidence_is_stored_under_a_random_name_and_audited(tester):
    execution = ExecutionFactory(tester=tester)
    evidence = evidence_attach(
        execution=execution, actor=tester, upload=upload("../../etc/passwd.png", PNG)
    )
    assert evidence.original_name == "passwd.png"
    assert evidence.content_type == "image/png"
    assert "passwd" not in evidence.file.name
    assert evidence.file.name.startswith(f"evidence/{execution.uuid}/")
    assert execution.plan.release.events.filter(verb="evidence.attached").exists()


def test_upload_page_and_download_as_attachment(client, tester, outsider):
    execution = ExecutionFactory(tester=tester)
    client.force_login(tester)
    url = reverse("uat:evidence_upload", args=[execution.uuid])
    response = client.post(url, {"file": upload("shot.png", PNG), "step_position": "1"})
    assert response.status_code == 302
    evidence = execution.evidence.get()
    download = reverse("uat:evidence", args=[execution.uuid, evidence.pk])
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    client.force_login(outsider)
    assert client.get(download).status_code == 404


def test_a_refused_upload_explains_itself(client, tester):
    execution = ExecutionFactory(tester=tester)
    client.force_login(tester)
    url = reverse("uat:evidence_upload", args=[execution.uuid])
    response = client.post(url, {"file": upload("virus.pdf", b"MZ\x90")}, follow=True)
    assert "not a PNG, JPEG, PDF or plain text" in response.text
    assert not execution.evidence.exists()
