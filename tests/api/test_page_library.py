"""Filling and running the library from the page in a real browser (Debian's headless Chromium
through Playwright), against a real server (uvicorn in a thread, the bundled encoder, the sample
gallery uploaded): uploading files and a folder, the jobs view with its errors and retries, and
the admin view (the key, collections, a reindex, rollback and drop). Searching is in
``test_page_search``.

Screenshots of the main states go to test-artifacts/screenshots/."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page

from tests.api.conftest import ADMIN_TOKEN, AUTH, wait_job
from tests.api.page_kit import Site, Watch, search_for, shot, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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
