"""``/v1/admin/fsck`` and damaged blobs met by the running app: a garbled original answers 410
(its thumbnail too, never 500), a missing one 404; fsck finds garbled and missing blobs, orphans,
``.tmp-*`` leftovers and a misfiled blob, repair re-links and cleans; a reindex then skips the
two items it cannot re-embed (counted and reported) instead of failing its canary."""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi.testclient import TestClient

from loupe.ingest.blobs import LocalBlobStore
from tests.api.conftest import wait_job


def _fsck(client: TestClient, **body: Any) -> dict[str, Any]:
    answer = client.post("/v1/admin/fsck", json={"grace_s": 0, **body})
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def test_fsck_finds_and_repairs_and_reindex_skips_damaged(
    client: TestClient, gallery: dict[str, str]
) -> None:
    assert _fsck(client)["clean"] is True
    blobs: LocalBlobStore = client.app.state.ingest.stores.blobs  # type: ignore[attr-defined]
    ids = sorted(gallery.values())
    keys = {i: client.get(f"/v1/items/{i}").json()["sha256"] for i in ids}
    garbled, missing, misfiled = ids[0], ids[1], ids[2]
    path = blobs.path_of(keys[garbled])
    path.write_bytes(path.read_bytes()[:-100] + b"\0" * 100)
    blobs.path_of(keys[missing]).unlink()
    moved = blobs.root / "misplaced" / keys[misfiled]
    moved.parent.mkdir()
    os.replace(blobs.path_of(keys[misfiled]), moved)
    orphan = blobs.put(b"bytes no item refers to")
    leftover = blobs.root / "ab" / ".tmp-crashed"
    leftover.parent.mkdir(exist_ok=True)
    leftover.write_bytes(b"half a file")
    old = time.time() - 10
    os.utime(blobs.path_of(orphan), (old, old))

    original = client.get(f"/v1/items/{garbled}/original")
    assert original.status_code == 410 and original.json()["error"]["type"] == "damaged"
    thumb = client.get(f"/v1/items/{garbled}/thumbnail")
    assert thumb.status_code == 410 and thumb.json()["error"]["type"] == "damaged"
    assert client.get(f"/v1/items/{missing}/original").status_code == 404
    assert client.get(f"/v1/items/{missing}/thumbnail").status_code == 404

    report = _fsck(client)
    assert report["clean"] is False and report["repaired"] == {}
    assert report["damaged_blobs"]["examples"] == [keys[garbled]]
    lost = sorted(e.split()[0] for e in report["points_without_blobs"]["examples"])
    assert lost == sorted([garbled, missing, misfiled])
    assert report["orphan_blobs"]["examples"] == [orphan]
    assert report["leftovers"]["examples"] == ["ab/.tmp-crashed"]

    repaired = _fsck(client, repair=True)["repaired"]
    assert repaired["relinked"] == 1 and repaired["orphans_removed"] == 1
    assert repaired["leftovers_removed"] == 1
    assert client.get(f"/v1/items/{misfiled}/original").status_code == 200
    assert not blobs.exists(orphan) and not leftover.exists()
    after = _fsck(client)
    assert after["orphan_blobs"]["count"] == 0 and after["leftovers"]["count"] == 0
    assert after["points_without_blobs"]["count"] == 2  # reported, never deleted

    started = client.post("/v1/admin/reindex", json={})
    assert started.status_code == 202, started.text
    job = wait_job(client, started.json()["id"], timeout_s=300)
    assert job["state"] == "succeeded", job
    assert job["meta"]["skipped"] == 2
    assert sorted(job["meta"]["skipped_items"]) == sorted([garbled, missing])
    assert client.get(f"/v1/items/{ids[3]}").status_code == 200
