"""Unknown API paths answer in the API's error format, not an HTML page."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/v1/releases/-1/gate/", "/api/v1/plans/x/reports/", "/api/v1/nothing/"]
)
def test_an_unmatched_api_path_is_a_json_404(client, lead, path):
    client.force_login(lead)
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_pages_keep_their_html_404(client, lead):
    client.force_login(lead)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
