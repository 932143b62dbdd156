"""The execution page's step conveniences in a real browser: *Pass all remaining steps*
with htmx, a screenshot pasted into a step, a file dropped onto one, and the image
thumbnails that show them."""

import base64
import struct
import zlib

import pytest

from tests.factories import ExecutionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def png(width: int = 8, height: int = 6) -> bytes:
    """A real (decodable) PNG, so a thumbnail of it has a size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x20\x80\x40" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def tester(db):
    return UserFactory(email="alpha@example.com", full_name="Alex Alpha", roles=["Tester"])


@pytest.fixture
def run(tester):
    return ExecutionFactory(tester=tester, in_progress=True, case__steps=3)


def open_run(new_page, tester, run):
    page = new_page()
    page.goto("/")
    page.get_by_label("Email address").fill(tester.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My work").wait_for()
    page.goto(f"/executions/{run.uuid}/")
    return page


# A file in a DataTransfer, handed to a paste or a drop event as the browser would.
DISPATCH = """([selector, kind, name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "image/png" }));
  const target = document.querySelector(selector);
  const event = kind === "paste"
    ? new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true })
    : new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true });
  target.dispatchEvent(event);
}"""


def test_pass_all_remaining_steps_with_htmx(new_page, tester, run):
    page = open_run(new_page, tester, run)
    page.evaluate("window.stillHere = true")
    page.locator("#step-1").get_by_role("button", name="Blocked").click()
    page.get_by_text("Describe what actually happened").wait_for()
    page.locator("#step-1").get_by_label("Actual result").fill("Login page down")
    page.locator("#step-1").get_by_role("button", name="Blocked").click()
    page.locator("#step-1 .badge.status-blocked").wait_for()
    page.get_by_role("button", name="Pass all remaining steps").click()
    page.get_by_text("2 remaining steps saved as passed.").wait_for()
    assert page.evaluate("window.stillHere") is True  # swapped in place, no reload
    assert page.locator("#step-2 .badge.status-passed").count() == 1
    assert page.locator("#step-3 .badge.status-passed").count() == 1
    assert page.get_by_role("button", name="Pass all remaining steps").count() == 0
    assert dict(run.step_results.values_list("position", "status")) == {
        1: "blocked",
        2: "passed",
        3: "passed",
    }


def test_a_pasted_screenshot_and_a_dropped_file_attach_to_their_step(new_page, tester, run):
    page = open_run(new_page, tester, run)
    data = base64.b64encode(png()).decode()
    page.locator("#step-2").get_by_label("Actual result").fill("The chart is empty")
    page.evaluate(DISPATCH, ["#actual-2", "paste", "image.png", data])
    page.get_by_text("Attached screenshot-step-2.png.").wait_for()
    assert page.locator("#step-2").get_by_label("Actual result").input_value() == (
        "The chart is empty"
    )
    page.evaluate(DISPATCH, ["#step-3", "drop", "dropped.png", data])
    page.get_by_text("Attached dropped.png.").wait_for()
    placed = dict(run.evidence.values_list("original_name", "step_position"))
    assert placed == {"screenshot-step-2.png": 2, "dropped.png": 3}
    # Thumbnails: the image itself, loaded (it has a size), in its step and in the list.
    thumb = page.locator("#step-2 img.thumb")
    thumb.wait_for()
    page.wait_for_function("() => document.querySelector('#step-2 img.thumb').complete")
    assert thumb.evaluate("img => img.naturalWidth") == 8
    assert page.locator("#evidence img.thumb").count() == 2
    with page.context.expect_page() as opened:
        thumb.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url.endswith("?view=1")
    assert full.evaluate("document.images[0].naturalWidth") == 8
