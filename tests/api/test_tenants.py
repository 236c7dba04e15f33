"""Two tenants on one server, through real HTTP: tenant B never sees, finds, downloads or
deletes tenant A's items by any route (search by text, photo, image_id and negatives; similar;
items, thumbnails, originals; delete; jobs), the same photo uploaded by both is two items,
duplicate folding stays inside a tenant, deleting one tenant's copy keeps the other's original,
and a reindex carries the tenants along."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from loupe.search.encoders.pool import EncoderPool
from tests.api.conftest import live_server, make_settings, wait_job
from tests.api.test_keys import make_key

pytestmark = pytest.mark.slow


@dataclass
class World:
    url: str
    roots: Path
    keys: dict[str, str]  # "admin", "a", "b", "b-read"
    items: dict[str, dict[str, str]]  # tenant -> stem -> id
    jobs: dict[str, str]  # tenant -> upload job id
    clients: list[httpx.Client] = field(default_factory=list)

    def http(self, who: str) -> httpx.Client:
        return self.http_with(self.keys[who])

    def http_with(self, key: str) -> httpx.Client:
        client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=120
        )
        self.clients.append(client)
        return client


def upload(http: httpx.Client, paths: list[Path]) -> dict[str, Any]:
    files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in paths]
    response = http.post("/v1/items", files=files)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert wait_job(http, body["job_id"], timeout_s=300)["state"] == "succeeded"
    return body


def ids_of(body: dict[str, Any]) -> dict[str, str]:
    return {Path(i["filename"]).stem: i["id"] for i in body["items"]}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, encoders: EncoderPool, sample_dir: Path
) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("tenants") / "data"
    settings = make_settings(data_dir, admin_token=None)
    keys = {
        "admin": make_key(data_dir, "--scope", "admin", "--name", "operator"),
        "a": make_key(data_dir, "--scope", "write", "--tenant", "alpha", "--name", "alice"),
        "b": make_key(data_dir, "--scope", "write", "--tenant", "beta", "--name", "bob"),
        "b-read": make_key(data_dir, "--scope", "read", "--tenant", "beta"),
        "a-admin": make_key(data_dir, "--scope", "admin", "--tenant", "alpha"),
    }
    photos = {stem: sample_dir / f"{stem}.jpg" for stem in ("cat", "astronaut", "rocket", "coffee")}
    with live_server(settings, encoders) as url:
        world = World(url, settings.ingest_roots[0], keys, {}, {})
        a, b = world.http("a"), world.http("b")
        body_a = upload(a, [photos["cat"], photos["astronaut"], photos["rocket"]])
        body_b = upload(b, [photos["cat"], photos["coffee"]])
        world.items = {"alpha": ids_of(body_a), "beta": ids_of(body_b)}
        world.jobs = {"alpha": body_a["job_id"], "beta": body_b["job_id"]}
        yield world
        for client in world.clients:
            client.close()


def hit_ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    found = set()
    for hit in response.json()["hits"]:
        found.add(hit["id"])
        found.update(hit["duplicates"])
    return found


def test_the_same_photo_by_two_tenants_is_two_items(world: World) -> None:
    a_cat, b_cat = world.items["alpha"]["cat"], world.items["beta"]["cat"]
    assert a_cat != b_cat
    a, b = world.http("a"), world.http("b")
    assert (
        a.get(f"/v1/items/{a_cat}").json()["sha256"] == b.get(f"/v1/items/{b_cat}").json()["sha256"]
    )
    again = b.post(
        "/v1/items", files=[("files", ("cat.jpg", a.get(f"/v1/items/{a_cat}/original").content))]
    )
    item = again.json()["items"][0]
    assert (item["id"], item["status"]) == (b_cat, "duplicate")


def test_search_finds_only_the_tenants_own_items(world: World, sample_dir: Path) -> None:
    own = {t: set(items.values()) for t, items in world.items.items()}
    b = world.http("b-read")
    for query in ("a cat", "an astronaut", "a rocket", "a cup of coffee"):
        body = {"text": query, "limit": 50, "collapse_duplicates": False}
        assert hit_ids(b.post("/v1/search", json=body)) <= own["beta"]
        folded = hit_ids(b.post("/v1/search", json={"text": query, "limit": 50}))
        assert folded <= own["beta"]
        assert hit_ids(world.http("a").post("/v1/search", json=body)) <= own["alpha"]
    everyone = hit_ids(world.http("admin").post("/v1/search", json={"text": "a cat", "limit": 50}))
    assert own["alpha"] | own["beta"] <= everyone  # the operator's key has no tenant
    photo = (sample_dir / "astronaut.jpg").read_bytes()
    by_photo = b.post("/v1/search/image", files={"file": ("astronaut.jpg", photo, "image/jpeg")})
    assert hit_ids(by_photo) <= own["beta"]
    mixed = {"text": "an astronaut", "image": base64.b64encode(photo).decode(), "limit": 50}
    assert hit_ids(b.post("/v1/search", json=mixed)) <= own["beta"]
    similar = b.get(f"/v1/items/{world.items['beta']['cat']}/similar", params={"limit": 50})
    assert hit_ids(similar) <= own["beta"]


def test_folding_never_names_another_tenants_copy(world: World) -> None:
    a_cat, b_cat = world.items["alpha"]["cat"], world.items["beta"]["cat"]
    for who, mine, theirs in (("a", a_cat, b_cat), ("b", b_cat, a_cat)):
        hits = world.http(who).post("/v1/search", json={"text": "a cat", "limit": 10}).json()
        cat = next(h for h in hits["hits"] if h["id"] == mine)
        assert theirs not in cat["duplicates"]
    admin = world.http("admin").post("/v1/search", json={"text": "a cat", "limit": 10}).json()
    folded = next(h for h in admin["hits"] if h["id"] in (a_cat, b_cat))
    assert {folded["id"], *folded["duplicates"]} >= {a_cat, b_cat}  # one library: one photo


def test_another_tenants_item_does_not_exist_by_any_route(world: World) -> None:
    b = world.http("b")
    a_astronaut, a_cat = world.items["alpha"]["astronaut"], world.items["alpha"]["cat"]
    for path in ("", "/thumbnail", "/original", "/similar"):
        response = b.get(f"/v1/items/{a_astronaut}{path}")
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["type"] == "not_found"
    for body in (
        {"image_id": a_astronaut},
        {"text": "an astronaut", "image_id": a_astronaut},
        {"text": "an astronaut", "negative": {"ids": [a_cat]}},
    ):
        response = b.post("/v1/search", json=body)
        assert response.status_code == 404, (body, response.text)
    assert b.delete(f"/v1/items/{a_astronaut}").status_code == 404
    assert b.patch(f"/v1/items/{a_astronaut}", json={"add_tags": ["mine"]}).status_code == 404
    tagged = b.post("/v1/items/bulk/tags", json={"ids": [a_astronaut], "add_tags": ["mine"]})
    assert tagged.json() == {"changed": [], "missing": [a_astronaut]}
    deleted = b.post("/v1/items/bulk/delete", json={"ids": [a_astronaut, a_cat]})
    assert deleted.json() == {"changed": [], "missing": [a_astronaut, a_cat]}
    assert "mine" not in world.http("a").get(f"/v1/items/{a_astronaut}").json()["tags"]
    assert world.http("a").get(f"/v1/items/{a_astronaut}").status_code == 200


def test_a_link_to_an_original_opens_that_item_only_and_stops_with_its_key(
    world: World,
) -> None:
    a_rocket, a_astronaut = world.items["alpha"]["rocket"], world.items["alpha"]["astronaut"]
    assert world.http("b").post(f"/v1/items/{a_rocket}/original-link").status_code == 404
    made = world.http("admin").post(
        "/v1/admin/keys", json={"scope": "read", "tenant": "alpha", "name": "a-viewer"}
    )
    assert made.status_code == 201, made.text
    viewer = world.http_with(made.json()["key"])
    answer = viewer.post(f"/v1/items/{a_rocket}/original-link").json()
    url, expires_at = answer["url"], answer["expires_at"]
    assert url.startswith(f"/v1/items/{a_rocket}/original?link=") and expires_at > time.time()
    assert made.json()["key"] not in url
    with httpx.Client(base_url=world.url, timeout=60) as nobody:  # no key header at all
        assert nobody.get(f"/v1/items/{a_rocket}/original").status_code == 401
        opened = nobody.get(url)
        assert opened.status_code == 200, opened.text
        assert opened.content == viewer.get(f"/v1/items/{a_rocket}/original").content
        assert opened.headers["cache-control"].startswith("private")
        assert opened.headers["referrer-policy"] == "no-referrer"
        elsewhere = url.replace(a_rocket, a_astronaut)
        assert nobody.get(elsewhere).status_code == 401  # another item
        assert nobody.get(url.replace("/original?", "/thumbnail?")).status_code == 401
        world.http("admin").delete(f"/v1/admin/keys/{made.json()['id']}")
        refused = nobody.get(url)
        assert refused.status_code == 401, "a revoked key's links stop at once"
        assert refused.json()["error"]["type"] == "unauthorized"


def test_jobs_are_the_tenants_own(world: World) -> None:
    b = world.http("b")
    a_job, b_job = world.jobs["alpha"], world.jobs["beta"]
    listed = {j["id"] for j in b.get("/v1/jobs").json()["jobs"]}
    assert b_job in listed and a_job not in listed
    for method, path in (
        ("GET", f"/v1/jobs/{a_job}"),
        ("POST", f"/v1/jobs/{a_job}/retry"),
        ("POST", f"/v1/jobs/{a_job}/cancel"),
        ("POST", f"/v1/jobs/{a_job}/resume"),
    ):
        response = b.request(method, path)
        assert response.status_code == 404, (path, response.text)
    assert world.http("a").get(f"/v1/jobs/{a_job}").status_code == 200
    assert a_job in {j["id"] for j in world.http("admin").get("/v1/jobs").json()["jobs"]}


def test_a_bulk_job_stamps_the_tenant(world: World, sample_dir: Path) -> None:
    folder = world.roots / "alpha-bulk"
    folder.mkdir()
    (folder / "flower.jpg").write_bytes((sample_dir / "flower.jpg").read_bytes())
    a = world.http("a")
    created = a.post("/v1/jobs", json={"source": {"path": "alpha-bulk"}})
    assert created.status_code == 202, created.text
    assert wait_job(a, created.json()["id"], timeout_s=300)["state"] == "succeeded"
    assert world.http("b").get(f"/v1/jobs/{created.json()['id']}").status_code == 404
    found = a.post("/v1/search", json={"text": "a flower", "limit": 1}).json()["hits"][0]
    assert found["filename"] == "flower.jpg"
    flowers = world.http("b").post("/v1/search", json={"text": "a flower", "limit": 50})
    assert found["id"] not in hit_ids(flowers)


def test_deleting_one_tenants_copy_keeps_the_others(world: World) -> None:
    a, b = world.http("a"), world.http("b")
    a_cat = world.items["alpha"]["cat"]
    original = a.get(f"/v1/items/{a_cat}/original")
    assert original.status_code == 200
    b_cat = world.items["beta"]["cat"]
    assert b.delete(f"/v1/items/{b_cat}").status_code == 204
    assert b.get(f"/v1/items/{b_cat}").status_code == 404
    assert a.get(f"/v1/items/{a_cat}/original").content == original.content
    assert a.get(f"/v1/items/{a_cat}/thumbnail").status_code == 200
    world.items["beta"].pop("cat")


def test_a_reindex_carries_the_tenants(world: World) -> None:
    assert world.http("a-admin").post("/v1/admin/reindex", json={}).status_code == 403
    admin = world.http("admin")
    started = admin.post("/v1/admin/reindex", json={})
    assert started.status_code == 202, started.text
    assert wait_job(admin, started.json()["id"], timeout_s=300)["state"] == "succeeded"
    target = started.json()["meta"]["target"]
    deadline = time.monotonic() + 60
    while not any(
        c["live"] and c["name"] == target for c in admin.get("/v1/admin/collections").json()
    ):
        assert time.monotonic() < deadline, "the new collection never went live"
        time.sleep(0.1)
    own = {t: set(items.values()) for t, items in world.items.items()}
    for who, tenant in (("a", "alpha"), ("b", "beta")):
        http = world.http(who)
        for item in own[tenant]:
            assert http.get(f"/v1/items/{item}").status_code == 200
        found = hit_ids(http.post("/v1/search", json={"text": "a cat", "limit": 50}))
        assert found
        other = own["beta" if tenant == "alpha" else "alpha"]
        assert not found & other
