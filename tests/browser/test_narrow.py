"""A phone's width (390 by 844): nothing wider than the screen, the header on one row,
and the header's focus ring visible on its dark background (WCAG 1.4.11, 3:1)."""

import pytest

from tests.factories import PASSWORD, DefectFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def sign_in(page, email: str) -> None:
    page.goto("/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def luminance(rgb: str) -> float:
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_my_defects_fits_a_phone_and_the_header_is_one_row(new_page, tester, artifacts):
    for n in range(3):
        DefectFactory(
            reported_by=tester,
            title=f"The quote total shows 0.00 EUR after changing the currency twice ({n})",
        )
    page = new_page(viewport={"width": 390, "height": 844})
    sign_in(page, tester.email)
    page.get_by_role("link", name="My defects").click()
    page.get_by_role("heading", name="My defects").wait_for()
    page.screenshot(path=artifacts / "narrow-my-defects.png", full_page=True)

    widths = page.evaluate(
        "() => ({scroll: document.body.scrollWidth, client: document.body.clientWidth,"
        " doc: document.documentElement.scrollWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths
    assert widths["doc"] <= 390, widths
    rows = page.evaluate(
        "() => new Set([...document.querySelectorAll('.site-header > *')]"
        ".filter(el => el.offsetParent !== null).map(el => el.getBoundingClientRect().top"
        " < 40 ? 'first' : 'next')).size"
    )
    assert rows == 1
    region = page.get_by_role("region", name="My defects")
    assert region.get_attribute("tabindex") == "0"


def test_the_header_focus_ring_has_3_to_1_contrast(new_page, tester):
    page = new_page()
    sign_in(page, tester.email)
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand link in the header
    colours = page.evaluate(
        "() => { const el = document.activeElement;"
        " return {ring: getComputedStyle(el).outlineColor,"
        " header: getComputedStyle(el.closest('.site-header')).backgroundColor,"
        " inHeader: !!el.closest('.site-header')}; }"
    )
    assert colours["inHeader"], colours
    assert contrast(colours["ring"], colours["header"]) >= 3, colours
