"""The page tells the truth about its state, in a real browser against a real server: matches
apart from the rest, loading on a slow network, the server stopped and back, the Jobs view when
the server is down, keyboard-only use and a phone-sized viewport.

Screenshots go to test-artifacts/screenshots/ (names starting with "s")."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Route

from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH, make_settings
from tests.api.page_kit import (
    Watch,
    free_port,
    open_page,
    search_for,
    serve,
    shot,
    upload,
    wait_first,
    wait_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.no_refusals]


def tile_ids(page: Page, list_id: str) -> list[str]:
    ids = page.eval_on_selector_all(f"#{list_id} li", "items => items.map(i => i.dataset.id)")
    return [str(i) for i in ids]


def test_matches_come_first_and_the_rest_is_dimmed_under_a_divider(
    page: Page, base_url: str
) -> None:
    answer = httpx.post(
        f"{base_url}/v1/search", json={"text": "a cat", "limit": 24}, headers=AUTH
    ).json()
    matching = [h["id"] for h in answer["hits"] if h["match"] != "none"]
    assert answer["total_matches"] == len(matching) == 1, "precondition: one cat in the gallery"
    search_for(page, "a cat", "cat.jpg")
    assert tile_ids(page, "matches") == matching
    assert len(tile_ids(page, "others")) == 9
    assert page.inner_text("#others-title") == "Other photos · 9"
    assert page.inner_text("#summary").startswith("1 match among 10 photos")
    dim = page.eval_on_selector("#others .tile", "t => Number(getComputedStyle(t).opacity)")
    bright = page.eval_on_selector("#matches .tile", "t => Number(getComputedStyle(t).opacity)")
    assert dim < 0.7 < bright
    # No raw scores anywhere: the words say how well each matches.
    assert "0." not in page.inner_text("#results")
    labels = page.eval_on_selector_all(
        "#results .tile", "tiles => tiles.map(t => t.getAttribute('aria-label'))"
    )
    cat_alt = answer["hits"][0]["alt"]["en"]  # what the enrichers saw (ingest/enrich/alt.py)
    assert labels[0].startswith(f"cat.jpg: {cat_alt}"), labels[0]
    assert labels[0].endswith(", strong match, tags sample"), labels[0]
    assert all(label.endswith(", not a match, tags sample") for label in labels[1:])
    shot(page, "s01-matches-first")


def test_a_slow_answer_shows_loading_and_dims_the_old_results(page: Page) -> None:
    search_for(page, "a cat", "cat.jpg")
    held: list[Route] = []
    page.route("**/v1/search", lambda route: held.append(route))
    page.fill("#q", "a cup of coffee")
    page.press("#q", "Enter")
    page.wait_for_function("document.getElementById('summary').innerText === 'Searching…'")
    assert page.eval_on_selector("#results", "r => r.classList.contains('stale')")
    assert page.get_attribute("#results", "aria-busy") == "true"
    shot(page, "s02-slow-network", idle=False)
    assert len(held) == 1
    # A newer query supersedes the held one: its answer, when it comes, is dropped.
    page.fill("#q", "a rocket")
    page.press("#q", "Enter")
    page.wait_for_function("document.getElementById('summary').innerText === 'Searching…'")
    assert len(held) == 2
    held[1].continue_()
    wait_first(page, "rocket.jpg")
    held[0].continue_()  # the superseded request was aborted by the page: nothing changes
    page.wait_for_timeout(300)
    assert page.get_attribute("#results li >> nth=0", "data-filename") == "rocket.jpg"
    assert not page.eval_on_selector("#results", "r => r.classList.contains('stale')")
    assert page.get_attribute("#results", "aria-busy") is None


def test_server_stopped_while_the_page_is_open(
    browser: Browser, tmp_path: Path, encoders: EncoderPool, sample_dir: Path
) -> None:
    settings = make_settings(tmp_path / "data")
    port = free_port()
    watch = Watch(offline_ok=True)
    with serve(settings, encoders, port) as url:
        upload(url, [sample_dir / "cat.jpg", sample_dir / "rocket.jpg"], tags="sample")
        page = open_page(browser, url + "/", watch)
        search_for(page, "a cat", "cat.jpg")
    # The server is down now.
    page.fill("#q", "a rocket")
    page.press("#q", "Enter")
    page.wait_for_selector("#offline:not([hidden])")
    assert "cannot be reached" in page.inner_text("#offline")
    assert page.eval_on_selector("#results", "r => r.classList.contains('stale')")
    wait_text(page, "#summary", "Search failed")
    assert "from before" in page.inner_text("#summary")
    page.click("nav a[href='#jobs']")
    page.wait_for_selector("#jobs-error:not([hidden])")
    assert "Jobs could not be loaded" in page.inner_text("#jobs-error")
    page.click("#offline-retry")  # still down: the banner stays
    page.wait_for_timeout(500)
    assert page.is_visible("#offline")
    shot(page, "s03-offline")
    page.click("nav a[href='#search']")
    with serve(settings, encoders, port):
        page.click("#offline-retry")
        page.wait_for_selector("#offline", state="hidden")
        wait_first(page, "rocket.jpg")  # the query in the box is run again
        assert not page.eval_on_selector("#results", "r => r.classList.contains('stale')")
        page.click("nav a[href='#jobs']")
        page.wait_for_selector("#jobs-error", state="hidden")
        page.wait_for_selector("#job-list li")
    page.context.close()
    assert watch.problems == []


def test_keyboard_only(page: Page) -> None:
    page.click("nav a[href='#jobs']")
    # The view switches on hashchange, after the click returns: a "/" pressed before that would
    # focus the box in the search view the switch then hides.
    page.wait_for_selector("#view-jobs", state="visible")
    page.keyboard.press("/")  # from anywhere: back to the search box
    page.wait_for_function("document.activeElement.id === 'q'")
    page.keyboard.type("a cat")
    page.keyboard.press("Enter")
    wait_first(page, "cat.jpg")
    page.wait_for_selector("#others li")
    page.focus("#modality")
    focused = "document.activeElement.closest('li')?.dataset.filename"
    for _ in range(10):  # past the two date fields (a Tab per part of each)
        page.keyboard.press("Tab")
        if page.evaluate(focused):
            break
    assert page.evaluate(focused) == "cat.jpg"
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid", "a visible focus ring on the focused tile"
    shot(page, "s04-focus-ring")
    order = page.eval_on_selector_all("#results li", "items => items.map(i => i.dataset.filename)")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused) == order[1]
    page.keyboard.press("ArrowDown")
    down = page.evaluate(focused)
    top = "el => el.getBoundingClientRect().top"
    below = page.eval_on_selector(f"#results li[data-filename='{down}']", top)
    assert below > page.eval_on_selector(f"#results li[data-filename='{order[1]}']", top)
    page.keyboard.press("Home")
    assert page.evaluate(focused) == "cat.jpg"
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail[open]")
    assert page.inner_text("#detail-position") == "1 of 10"
    assert page.is_disabled("#detail-prev")
    page.keyboard.press("ArrowRight")
    wait_text(page, "#detail-title", order[1])
    assert page.inner_text("#detail-position") == "2 of 10"
    page.keyboard.press("ArrowLeft")
    wait_text(page, "#detail-title", "cat.jpg")
    page.keyboard.press("ArrowRight")
    wait_text(page, "#detail-title", order[1])
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")
    # Focus returns to the item last shown (the dialog's close event comes a task later).
    page.wait_for_function(f"{focused} === {order[1]!r}")


def test_phone_viewport(browser: Browser, base_url: str, watch: Watch) -> None:
    page = open_page(browser, base_url + "/?q=a%20cat", watch, width=390, height=844)
    wait_first(page, "cat.jpg")
    page.wait_for_selector("#others-title:not([hidden])")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    lefts = page.eval_on_selector_all("#others li", "items => items.map(i => i.offsetLeft)")
    assert len(set(lefts)) == 2
    shot(page, "s05-phone")
    page.context.close()
    assert watch.problems == []


def test_admin_errors_are_one_sentence_and_the_table_fits_a_phone(
    browser: Browser, base_url: str, watch: Watch
) -> None:
    page = open_page(browser, base_url + "/#admin", watch, width=390, height=844)
    page.wait_for_selector("#collections-body tr")
    state = page.locator("th", has_text="State")
    drop_column = "document.querySelector('#collections-body tr td:last-child')"
    assert state.is_visible()
    right = page.evaluate(f"{drop_column}.getBoundingClientRect().right")
    assert right <= 390, "State and Drop fit without scrolling sideways"
    page.fill("#reindex-model", "clip:no-such-model-0123")
    page.click("#reindex-start")
    page.wait_for_selector("#admin-error:not([hidden])")
    sentence = page.inner_text("#admin-error")
    assert sentence.startswith("Reindex refused: the model cannot be loaded")
    assert "\n" not in sentence and len(sentence) < 400
    shot(page, "s06-admin-phone")
    assert [r.split(" ")[0] for r in watch.refusals] == ["422"]
    watch.refusals.clear()
    page.context.close()
    assert watch.problems == []


def test_the_date_filter_narrows_to_photos_taken_in_the_range(page: Page) -> None:
    search_for(page, "a cat", "cat.jpg")
    page.fill("#taken-before", "2000-01-01")  # the gallery has no EXIF dates: taken = uploaded
    page.dispatch_event("#taken-before", "change")
    wait_text(page, "#summary", "Nothing matches these filters.")
    page.fill("#taken-before", "")
    page.fill("#taken-after", "2000-01-01")
    page.dispatch_event("#taken-after", "change")
    wait_first(page, "cat.jpg")
    assert page.locator("#results li").count() == 10


def test_a_cancelled_upload_tells_what_was_indexed_and_resumes(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    # 40 photo-sized JPEGs: encoding them takes long enough to cancel the job half-way.
    files = []
    for n in range(40):
        buffer = io.BytesIO()
        Image.new("RGB", (1600, 1200), (n * 6, 255 - n * 6, (n * 37) % 255)).save(buffer, "JPEG")
        files.append(("files", (f"p{n:02}.jpg", buffer.getvalue(), "image/jpeg")))
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=60) as http:
        job_id = http.post("/v1/items", files=files).json()["job_id"]
        cancelled = http.post(f"/v1/jobs/{job_id}/cancel").json()
    assert cancelled["state"] == "cancelled" and cancelled["pending"] > 0, cancelled
    page.click("nav a[href='#jobs']")
    card = f"#job-list li[data-id='{job_id}']"
    wait_text(page, card, "not indexed")
    assert re.search(r"cancelled: \d+ indexed · \d+ not indexed", page.inner_text(card))
    shot(page, "s07-cancelled-job")
    page.click(f"{card} button:text('Resume')")
    page.wait_for_selector(f"{card}[data-state='succeeded']", timeout=120_000)
    assert "40 done · 0 failed · 40 total" in page.inner_text(card)
    assert page.is_hidden(f"{card} button:text('Resume')")


def test_an_empty_query_browses_the_library_newest_first(page: Page, base_url: str) -> None:
    with httpx.Client(base_url=base_url, headers=AUTH) as http:
        library = http.get("/v1/items", params={"order": "asc", "limit": 1}).json()
    page.wait_for_selector("#results li")
    wait_text(page, "#summary", f"{library['total']} photos in the library, newest first")
    assert page.is_visible("#hint")
    page.select_option("#order", "asc")
    wait_text(page, "#summary", "oldest first")
    page.wait_for_function(
        "name => document.querySelector('#results li')?.dataset.filename === name",
        arg=library["hits"][0]["filename"],
    )
    page.fill("#q", "a cat")  # a query hides the browse order
    wait_first(page, "cat.jpg")
    assert page.is_hidden("#order-row")
    page.fill("#q", "")
    page.dispatch_event("#q", "input")
    wait_text(page, "#summary", "in the library")
