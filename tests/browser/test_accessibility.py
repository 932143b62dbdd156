"""axe-core over every page, for every persona: WCAG 2.2 A and AA, no violation allowed.

The pages are those of ``tests/test_routes.py``: each route its rule lets a persona see
(a 200 to a GET), in the world of objects it builds, plus the admin's main pages for the
QA lead. axe-core is the npm package pinned in ``tests/browser/axe/`` (``make test``
installs it; so does this module when npm is there). One browser, one page per persona.
Each violation is reported with its rule, impact, page and target selectors, and all of
them are written to ``test-artifacts/axe.json``.
"""

import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.conftest import require
from tests.test_routes import PERSONAS, ROUTES
from tests.test_routes import world as _world  # noqa: F401 - the fixture `world`

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AXE_FOLDER = Path(__file__).resolve().parent / "axe"
AXE_SCRIPT = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# The admin pages a QA lead works in: the index, every list, and the editors.
ADMIN_EDITORS = ("uat.case", "uat.plan", "uat.defect", "uat.release", "uat.cohort")


def axe_script() -> Path:
    """The pinned axe-core, installed from the npm registry when it is missing."""
    if not AXE_SCRIPT.exists() and shutil.which("npm"):
        subprocess.run(
            ["npm", "ci", "--prefix", str(AXE_FOLDER), "--no-audit", "--no-fund"],
            check=False,
            capture_output=True,
            timeout=300,
        )
    require(AXE_SCRIPT.exists(), "axe-core (npm ci --prefix tests/browser/axe)")
    return AXE_SCRIPT


def persona_pages(persona: str, objects: dict) -> list[str]:
    """Every GET route the persona is let into (a 200), as a URL in ``objects``."""
    return [
        reverse(name, kwargs=rule.kwargs(objects))
        for name, rule in sorted(ROUTES.items())
        if rule.method == "get" and rule.expect[persona] == 200
    ]


def admin_pages(lead) -> list[str]:
    """The admin index, every list the QA lead may view, and the editors."""
    request = RequestFactory().get("/admin/")
    request.user = lead
    pages = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_permission(request):
            continue
        info = model._meta.app_label, model._meta.model_name
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model._meta.label_lower in ADMIN_EDITORS:
            pages.append(reverse("admin:{}_{}_add".format(*info)))
            first = model._default_manager.order_by("pk").first()
            if first is not None:
                pages.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    return pages


def signed_in_context(browser, live_server, user):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies["sessionid"]
        context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    return context


def violations_of(page, url: str, script: Path) -> list[dict]:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    page.add_script_tag(path=str(script))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [" ".join(map(str, node["target"])) for node in violation["nodes"]],
        }
        for violation in result["violations"]
    ]


def test_every_page_passes_axe_wcag_22_aa_for_every_persona(
    browser, live_server, request, world, artifacts
):
    script = axe_script()
    found: list[dict] = []
    checked = 0
    for persona in PERSONAS:
        if persona == "outsider":
            continue  # an account without a role sees nothing but the public pages
        user = None if persona == "anonymous" else request.getfixturevalue(persona)
        context = signed_in_context(browser, live_server, user)
        page = context.new_page()
        page.set_default_timeout(15_000)
        urls = persona_pages(persona, world)
        if persona == "lead":
            urls += admin_pages(user)
        for url in urls:
            probe = context.request.get(url)
            if "text/html" not in probe.headers.get("content-type", ""):
                continue  # a PDF, a download, an evidence file
            if "<html" not in probe.text()[:500]:
                continue  # an htmx fragment, checked inside the page that shows it
            checked += 1
            for violation in violations_of(page, url, script):
                found.append({"persona": persona, "page": url, **violation})
        context.close()

    (artifacts / "axe.json").write_text(json.dumps(found, indent=2))
    pages_by_rule = defaultdict(set)
    for violation in found:
        pages_by_rule[(violation["rule"], violation["impact"])].add(violation["page"])
    summary = "\n".join(
        f"{rule} ({impact}): {len(pages)} page(s), e.g. {sorted(pages)[0]}"
        for (rule, impact), pages in sorted(pages_by_rule.items())
    )
    details = "\n".join(
        f"{v['persona']} {v['page']}: {v['rule']} ({v['impact']}) {v['help']} — "
        f"{', '.join(v['targets'][:5])}"
        for v in found
    )
    assert checked > 40, checked
    assert found == [], f"{len(found)} axe violations on {checked} pages:\n{summary}\n\n{details}"
