"""Managing photos from the page, in a real browser against a real server: edit an item's tags
and delete it from the detail view; select several results and tag or delete them at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import AUTH
from tests.api.page_kit import Site, gallery_site, search_for, shot, wait_text

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.no_refusals]


@pytest.fixture
def site(tmp_path: Path, encoders: EncoderPool, sample_dir: Path) -> Iterator[Site]:
    """A fresh library per test (these tests delete photos), in place of the module's one."""
    with gallery_site(tmp_path / "data", encoders, sample_dir) as site:
        yield site


def api(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=AUTH, timeout=60)


def tagged(url: str, tag: str) -> set[str]:
    with api(url) as http:
        body = {"text": "a photo", "limit": 50, "filter": {"tags": [tag]}}
        return {h["filename"] for h in http.post("/v1/search", json=body).json()["hits"]}


def test_edit_tags_and_delete_from_the_detail_view(page: Page, base_url: str) -> None:
    search_for(page, "a cat", "cat.jpg")
    page.click("#results li >> nth=0 >> .tile")
    page.wait_for_selector("#detail[open]")
    page.fill("#detail-tags", "sample, pets, chelsea")
    page.click("#detail-tags-form button[type='submit']")
    wait_text(page, "#detail-meta", "pets")
    assert tagged(base_url, "pets") == {"cat.jpg"}
    cat_id = page.get_attribute("#results li >> nth=0", "data-id")
    page.click("#detail-delete")
    assert page.inner_text("#detail-delete") == "Really delete?"  # asks first
    shot(page, "m01-detail-tags-delete")
    page.click("#detail-delete")
    wait_text(page, "#status", "Deleted cat.jpg")
    assert page.inner_text("#detail-position") == "1 of 9", "the dialog moved on to the next photo"
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")
    assert page.locator(f"#results li[data-id='{cat_id}']").count() == 0
    assert page.locator("#results li").count() == 9
    assert "among 9 photos" in page.inner_text("#summary")
    with api(base_url) as http:
        assert http.get(f"/v1/items/{cat_id}").status_code == 404


def test_select_several_then_tag_and_delete_them(page: Page, base_url: str) -> None:
    search_for(page, "a cat", "cat.jpg")
    page.click("#select-toggle")
    assert page.get_attribute("#select-toggle", "aria-pressed") == "true"
    names = page.eval_on_selector_all("#others li", "items => items.map(i => i.dataset.filename)")
    picks = names[:2]
    for name in picks:
        page.click(f"#results li[data-filename='{name}'] .tile")
    assert page.is_hidden("#detail")  # a click picks, it does not open
    assert page.inner_text("#select-count") == "2 selected"
    page.fill("#select-tag", "picked")
    page.keyboard.press("Enter")
    wait_text(page, "#status", "added to 2 items")
    assert tagged(base_url, "picked") == set(picks)
    shot(page, "m02-select")
    page.click("#select-delete")
    page.click("#select-delete")
    wait_text(page, "#status", "Deleted 2 items")
    assert page.locator("#results li").count() == 8
    assert page.inner_text("#others-title") == "Other photos · 7"
    assert tagged(base_url, "picked") == set()
    page.click("#select-toggle")
    page.click("#results li >> nth=0 >> .tile")
    page.wait_for_selector("#detail[open]")  # out of select mode, a click opens again
