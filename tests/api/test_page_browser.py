"""The search page in a real browser (Debian's headless Chromium through Playwright), against a
real server (uvicorn in a thread, the bundled encoder, the sample gallery uploaded).

Screenshots of the main states go to test-artifacts/screenshots/."""

from __future__ import annotations

import base64
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Dialog, Page

from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import ADMIN_TOKEN, AUTH, make_settings
from tests.api.page_kit import (
    Watch,
    first_name,
    free_port,
    open_page,
    search_for,
    serve,
    shot,
    upload,
    wait_first,
    wait_job,
    wait_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass(frozen=True)
class Site:
    url: str
    roots: Path  # the folder bulk jobs may read


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool, sample_dir: Path
) -> Iterator[Site]:
    """A real server on a free port, with the sample gallery uploaded (tagged "sample")."""
    settings = make_settings(tmp_path_factory.mktemp("page") / "data")
    with serve(settings, encoders, free_port()) as url:
        upload(url, sorted(sample_dir.glob("*.jpg")), tags="sample")
        yield Site(url, settings.ingest_roots[0])


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def base_url(site: Site) -> str:
    return site.url


@pytest.fixture
def page(browser: Browser, base_url: str, watch: Watch) -> Iterator[Page]:
    page = open_page(browser, base_url + "/", watch)
    yield page
    page.context.close()
    assert watch.problems == []


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
    assert "text + image" in page.inner_text("#summary")
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


def test_upload_shows_each_file_and_the_new_photo_becomes_searchable(
    page: Page, sample_dir: Path, tmp_path: Path, watch: Watch
) -> None:
    import skimage.data

    retina = tmp_path / "retina.jpg"
    shutil.copy(Path(skimage.data.__file__).parent / "retina.jpg", retina)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a photo")
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    page.click("nav a[href='#upload']")
    page.fill("#upload-tags", "eyes")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.set_input_files("#file-input", [retina, sample_dir / "cat.jpg", broken, notes])
    row = "#upload-list li[data-name='{}']".format
    page.wait_for_selector(row("retina.jpg") + "[data-state='done']", timeout=120_000)
    assert page.get_attribute(row("cat.jpg"), "data-state") == "duplicate"
    assert page.get_attribute(row("broken.jpg"), "data-state") == "refused"
    assert page.get_attribute(row("notes.txt"), "data-state") == "skipped"
    assert "1 searchable" in page.inner_text("#upload-summary")
    shot(page, "06-upload")
    # The batch went once: the bad file was refused in the same answer, with its reason.
    assert [p for p in posts if p.endswith("/v1/items")] == [posts[0]]
    assert watch.refusals == []
    assert "refused: the image is truncated or corrupt" in page.inner_text(row("broken.jpg")) or (
        "refused: the file is not a supported image" in page.inner_text(row("broken.jpg"))
    )
    assert "tags added" in page.inner_text(row("cat.jpg"))
    page.click("nav a[href='#jobs']")
    page.wait_for_selector("#job-list li[data-state='succeeded']")
    assert "1 done · 0 failed · 1 total" in page.inner_text("#job-list li >> nth=0")
    page.click("nav a[href='#search']")
    search_for(page, "an eye", "retina.jpg")
    # A whole folder, through the folder picker: names keep their folder.
    folder = tmp_path / "trip"
    folder.mkdir()
    Image.new("RGB", (96, 64), (30, 90, 160)).save(folder / "sky.png")
    page.click("nav a[href='#upload']")
    page.set_input_files("#folder-input", folder)
    page.wait_for_selector(row("sky.png") + "[data-state='done']")
    assert page.inner_text(row("sky.png") + " .file-name") == "trip/sky.png"


def test_jobs_view_lists_errors_and_retries(page: Page, site: Site, watch: Watch) -> None:
    folder = site.roots / "bulk"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(_small_photo())
    (folder / "broken.jpg").write_bytes(b"not a photo at all")
    job = httpx.post(
        f"{site.url}/v1/jobs", json={"source": {"path": str(folder)}}, headers=AUTH
    ).json()
    with httpx.Client(base_url=site.url, headers=AUTH) as http:
        wait_job(http, job["id"])
    page.click("nav a[href='#jobs']")
    card = f"#job-list li[data-id='{job['id']}']"
    page.wait_for_selector(f"{card}[data-state='partial']")
    assert "1 done · 1 failed · 2 total" in page.inner_text(card)
    page.click(f"{card} .job-errors summary")
    assert "broken.jpg" in page.inner_text(f"{card} .job-errors")
    shot(page, "07-jobs")
    page.click(f"{card} button:text('Retry failed')")
    wait_text(page, "#status", "Retrying")
    page.wait_for_selector(f"{card}[data-state='partial']")
    assert page.is_hidden(f"{card} button:text('Cancel')")
    assert watch.refusals == []


def _small_photo() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def test_admin_lists_collections_and_runs_a_reindex(page: Page, watch: Watch) -> None:
    # The library browsed at load fetches its thumbnails with the tab's key: let them finish
    # before the key goes, or they come back 401 (what a tab that loses its key mid-load sees).
    page.wait_for_load_state("networkidle")
    page.evaluate("sessionStorage.clear()")  # this tab starts with no key
    page.click("nav a[href='#admin']")
    assert page.is_hidden("#admin-panel")
    page.fill("#token", "not-the-token")
    page.press("#token", "Enter")
    wait_text(page, "#status", "the API key is unknown or revoked")
    assert page.is_hidden("#admin-panel")
    assert page.evaluate("sessionStorage.getItem('loupe.adminToken')") is None
    assert [r.split(" ")[0] for r in watch.refusals] == ["401"]
    watch.refusals.clear()
    page.fill("#token", ADMIN_TOKEN)
    page.press("#token", "Enter")
    page.wait_for_selector("#collections-body tr")
    assert page.locator("#collections-body tr").count() == 1
    assert page.inner_text("#collections-body .badge") == "live"
    assert page.evaluate("sessionStorage.getItem('loupe.adminToken')") == ADMIN_TOKEN
    page.click("#reindex-start")
    wait_text(page, "#reindex-job p", "succeeded, now live")
    page.wait_for_function("document.querySelectorAll('#collections-body tr').length === 2")
    live = "#collections-body tr:has(.badge.live)"
    assert page.locator(live).count() == 1
    assert page.get_attribute(live, "data-name") == page.get_attribute(
        "#collections-body tr:last-child", "data-name"
    )
    shot(page, "08-admin")
    page.click("#rollback-slot button")  # asks first
    page.click("#rollback-slot button:text('Really roll back?')")
    wait_text(page, "#status", "Rolled back")
    # The reindex panel no longer says the new collection is live.
    wait_text(page, "#reindex-job", "Rolled back")
    assert "now live" not in page.inner_text("#reindex-job")
    page.wait_for_function(
        "document.querySelector('#collections-body tr:first-child .badge').innerText === 'live'"
    )
    drop = page.locator("#collections-body button", has_text="Drop")
    drop.click()
    page.locator("#collections-body button", has_text="Really drop").click()
    page.wait_for_function("document.querySelectorAll('#collections-body tr').length === 1")
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
