"""Searching from the page in a real browser (Debian's headless Chromium through Playwright),
against a real server (uvicorn in a thread, the bundled encoder, the sample gallery uploaded):
text as you type, no good match, a dropped or pasted photo, text + image, the detail view and
more like this, texts paged in as you scroll, a phone's width, and a closed server's key prompt.
The library's other views (upload, jobs, admin) are in ``test_page_library``.

Screenshots of the main states go to test-artifacts/screenshots/."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Dialog, Page

from tests.api.conftest import ADMIN_TOKEN, AUTH, wait_job
from tests.api.page_kit import (
    Watch,
    first_name,
    open_page,
    search_for,
    shot,
    wait_first,
    wait_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_typing_a_cat_shows_the_cat_first(page: Page, watch: Watch) -> None:
    page.fill("#q", "a cat")  # no Enter: the debounced instant search
    wait_first(page, "cat.jpg")
    assert page.is_hidden("#nomatch")
    label = str(page.get_attribute("#results li >> nth=0 >> .tile", "aria-label"))
    assert label.startswith("cat.jpg") and "strong match" in label, label
    # Hover names the concepts the hit matched, in English and Chinese
    hover = str(page.get_attribute("#results li >> nth=0 >> .tile", "title"))
    assert "cat" in hover.split("\n", 1)[-1] and "猫" in hover, hover
    assert page.evaluate("new URL(location.href).searchParams.get('q')") == "a cat"
    # Keyboard: the search box, then its buttons, then the filters and the results.
    page.focus("#q")
    order: list[str] = []
    while "tile" not in order and len(order) < 20:
        page.keyboard.press("Tab")
        here = page.evaluate("document.activeElement.id || document.activeElement.className")
        if not order or order[-1] != here:  # a date field takes a Tab per part (d, m, y)
            order.append(here)
    filters = ["tags", "modality", "taken-after", "taken-before"]
    assert order == ["pick-image", "search-submit", *filters, "select-toggle", "tile"]
    # The summary is read out (live region) but not shown as a toast over the grid: it is
    # already on the page above the results.
    wait_text(page, "#status", "among")
    page.wait_for_timeout(400)  # past the toast's 0.2 s fade-in, before its 4 s timeout
    status = page.eval_on_selector("#status", "e => [e.innerText, getComputedStyle(e).opacity]")
    assert "among" in status[0] and status[1] == "0", status
    page.hover("#results li >> nth=0 >> .tile")
    shot(page, "01-results")
    assert watch.refusals == []


def test_no_good_match_is_said_and_hits_are_dimmed(page: Page, base_url: str, watch: Watch) -> None:
    query = "quantum chromodynamics lecture notes"
    answer = httpx.post(f"{base_url}/v1/search", json={"text": query}, headers=AUTH).json()
    assert answer["no_good_match"], "precondition: the API finds no good match"
    assert answer["hits"]
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_selector("#nomatch:not([hidden])")
    assert "No good match" in page.inner_text("#nomatch")
    assert page.eval_on_selector("#results", "el => el.classList.contains('weak')")
    assert page.locator("#results li").count() == len(answer["hits"])
    shot(page, "02-no-good-match")
    assert watch.refusals == []


def _coffee_copy(sample_dir: Path) -> bytes:
    image = Image.open(sample_dir / "coffee.jpg")
    w, h = image.size
    buffer = io.BytesIO()
    image.crop((w // 20, h // 20, w - w // 20, h - h // 20)).save(buffer, "JPEG", quality=50)
    return buffer.getvalue()


def test_dropping_a_recompressed_photo_finds_the_original(
    page: Page, sample_dir: Path, watch: Watch
) -> None:
    data = base64.b64encode(_coffee_copy(sample_dir)).decode()
    transfer = page.evaluate_handle(
        """([b64, name]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
            return transfer;
        }""",
        [data, "my-coffee.jpg"],
    )
    page.dispatch_event("#view-search", "dragenter", {"dataTransfer": transfer})
    assert page.is_visible("#drop-overlay")
    page.dispatch_event("#view-search", "drop", {"dataTransfer": transfer})
    wait_first(page, "coffee.jpg")
    assert page.inner_text("#query-name") == "my-coffee.jpg"
    assert page.is_hidden("#weight-row")  # image only: no mix to set
    shot(page, "03-image-search")
    # Hybrid: add words, the text/image slider appears; all on the text side is a text search.
    page.fill("#q", "a cat")
    page.wait_for_selector("#weight-row:not([hidden])")
    page.fill("#weight", "0")  # all the way to the text side
    page.dispatch_event("#weight", "change")
    wait_first(page, "cat.jpg")
    # Filling the box also started the delayed search-as-you-type: the summary may say
    # "Searching…" until that one answers too.
    wait_text(page, "#summary", "text + image")
    wait_first(page, "cat.jpg")
    shot(page, "04-hybrid")
    page.click("#clear-image")
    assert page.is_hidden("#query-image")
    # Pasting an image (Ctrl+V of a copied photo) is an image search too.
    page.fill("#q", "")
    page.evaluate(
        """transfer => document.dispatchEvent(
            new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true }))""",
        transfer,
    )
    wait_first(page, "coffee.jpg")
    assert page.inner_text("#query-name") == "my-coffee.jpg"
    assert watch.refusals == []


def test_detail_view_more_like_this_and_escape(page: Page, base_url: str, watch: Watch) -> None:
    search_for(page, "a cup of coffee", "coffee.jpg")
    tile = page.locator("#results li >> nth=0 >> .tile")
    tile.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail[open]")
    assert page.inner_text("#detail-title") == "coffee.jpg"
    wait_text(page, "#detail-meta", "image/jpeg")
    assert "sample" in page.inner_text("#detail-meta")
    # What the enrichers saw: the original's alt text and the "Seen" row
    alt = str(page.get_attribute("#detail-media img", "alt"))
    assert alt.startswith("A photo") and alt in page.inner_text("#detail-meta")
    # The concepts the query matched (espresso, cup: ImageNet classes)
    assert "Concepts" in page.inner_text("#detail-meta")
    assert "espresso" in page.inner_text("#detail-meta")
    page.click("#detail-similar")
    page.wait_for_selector("#similar li")
    assert page.get_attribute("#similar li:first-child", "data-filename") != "coffee.jpg"
    # "More like this" is judged like a search: the heading says whether anything is alike
    item = page.get_attribute("#results li >> nth=0", "data-id")
    alike = httpx.get(f"{base_url}/v1/items/{item}/similar?limit=12", headers=AUTH).json()
    assert alike["total_matches"] is not None
    expected = "More like this" if alike["total_matches"] else "Nothing much like this"
    assert page.inner_text("#similar-heading").startswith(expected)
    page.wait_for_function("[...document.querySelectorAll('#detail img')].every(i => i.complete)")
    shot(page, "05-detail")
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")
    assert page.evaluate("document.activeElement.closest('li')?.dataset.filename") == "coffee.jpg"
    assert watch.refusals == []


def test_open_original_on_a_closed_server_opens_the_photo_in_a_new_tab(
    page: Page, watch: Watch
) -> None:
    """A new tab sends no key: the link is one the server signed for this photo, and the key
    itself is never in it."""
    search_for(page, "a cat", "cat.jpg")
    page.click("#results li >> nth=0 >> .tile")
    page.wait_for_selector("#detail[open]")
    page.wait_for_function("document.getElementById('detail-original').href.includes('?link=')")
    href = str(page.get_attribute("#detail-original", "href"))
    assert ADMIN_TOKEN not in href and "lp_" not in href
    context = page.context
    with (
        context.expect_event("response", lambda r: "/original?link=" in r.url) as answer,
        context.expect_page() as opened,
    ):
        page.click("#detail-original")
    assert answer.value.status == 200
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.evaluate("document.contentType") == "image/jpeg"
    assert tab.evaluate("document.images[0].naturalWidth") > 0
    tab.close()
    page.keyboard.press("Escape")
    assert watch.refusals == []


def test_phone_width_renders_a_two_column_grid(
    browser: Browser, base_url: str, watch: Watch
) -> None:
    page = open_page(browser, base_url + "/?q=a%20cat", watch, width=390, height=844, dark=True)
    assert first_name(page) == "cat.jpg"
    lefts = page.eval_on_selector_all("#results li", "items => items.map(i => i.offsetLeft)")
    assert len(set(lefts)) == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "09-phone-dark")
    page.context.close()
    assert watch.problems == []
    assert watch.refusals == []


def test_texts_page_in_as_you_scroll_and_filter_by_modality(
    page: Page, base_url: str, watch: Watch
) -> None:
    items = [{"text": text} for text in NOTES]
    with httpx.Client(base_url=base_url, timeout=60, headers=AUTH) as http:
        wait_job(http, http.post("/v1/items", json={"items": items}).json()["job_id"])
    page.select_option("#modality", "text")
    page.fill("#q", "growing vegetables in the garden")
    page.press("#q", "Enter")
    wait_text(page, "#summary", "text search")  # the answer to the query, not the browse
    page.wait_for_selector("#results .text-card")
    assert page.locator("#results li").count() == 24
    assert page.is_visible("#more")
    page.locator("#sentinel").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('#results li').length === 30")
    assert page.is_hidden("#more")
    page.fill("#tags", "sample")  # no text carries the gallery's tag
    page.dispatch_event("#tags", "change")
    wait_text(page, "#summary", "Nothing matches these filters.")
    page.fill("#tags", "")
    page.dispatch_event("#tags", "change")
    page.wait_for_function("document.querySelectorAll('#results li').length > 0")
    page.locator("#sentinel").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelectorAll('#results li').length === 30")
    ids = page.eval_on_selector_all("#results li", "items => items.map(i => i.dataset.id)")
    assert len(set(ids)) == 30
    page.click("#results li >> nth=0 >> .tile")
    page.wait_for_selector("#detail[open] .text-full")
    assert page.inner_text("#detail .text-full") in NOTES
    shot(page, "10-text-detail")
    page.keyboard.press("Escape")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "11-texts")
    assert watch.refusals == []


NOTES = [
    "Tomatoes need six hours of sun and steady watering.",
    "The train to Lyon leaves at 7:42 from platform 3.",
    "Buy flour, eggs, butter and a lemon for the tart.",
    "Jazz trumpet solos from the fifties sound warm on vinyl.",
    "The quarterly report is due on Friday afternoon.",
    "A sourdough starter must be fed every twelve hours.",
    "Penguins huddle together to survive the Antarctic winter.",
    "Change the car's oil every ten thousand kilometres.",
    "Python dictionaries keep insertion order since version 3.7.",
    "The museum is closed on Mondays and public holidays.",
    "Knit the scarf in garter stitch with chunky wool.",
    "Volcanic soil is rich in minerals and good for vineyards.",
    "Remember to renew the passport before the summer trip.",
    "Chess openings: the Sicilian defence answers e4 with c5.",
    "The marathon route follows the river for twenty kilometres.",
    "Backups run every night at two in the morning.",
    "Basil grows best next to tomatoes on a warm balcony.",
    "The violin concerto was premiered in Leipzig in 1845.",
    "Whales communicate with songs that travel hundreds of miles.",
    "Mortgage rates rose by half a point this spring.",
    "Pack sunscreen, a hat and two litres of water for the hike.",
    "The cathedral's stained glass dates from the 13th century.",
    "Feed the cat at seven and clean the litter box on Sundays.",
    "A haiku has three lines of five, seven and five syllables.",
    "Solar panels on the roof cover most of our electricity.",
    "The referee showed a red card in the ninetieth minute.",
    "Dentist appointment on Tuesday at half past nine.",
    "Glaciers in the Alps lost a tenth of their volume in two years.",
    "Use a cast iron pan to sear the steak on high heat.",
    "The library returns desk moved to the second floor.",
]


def test_a_closed_server_asks_for_a_key_once_and_the_tab_keeps_it(
    browser: Browser, base_url: str, watch: Watch
) -> None:
    asked: list[str] = []

    def give_key(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept(ADMIN_TOKEN)

    page = open_page(browser, base_url + "/", watch, key=None, on_dialog=give_key)
    search_for(page, "a cat", "cat.jpg")
    assert len(asked) == 1 and "needs an API key" in asked[0]
    assert page.evaluate("sessionStorage.getItem('loupe.adminToken')") == ADMIN_TOKEN
    assert page.evaluate("localStorage.length") == 0
    page.wait_for_function("document.querySelector('#results li img')?.naturalWidth > 0")
    page.click("#results li >> nth=0 >> .tile")
    page.wait_for_function("document.querySelector('#detail-media img')?.naturalWidth > 0")
    assert [r.split(" ")[0] for r in watch.refusals] == ["401"], watch.refusals
    assert "/v1/items" in watch.refusals[0]  # the first call: the library browsed at load
    page.context.close()
    assert watch.problems == []
