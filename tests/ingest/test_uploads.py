"""``ingest.uploads`` on real stores: a bad file is refused in its place and the rest stored;
an upload with no good file fails as a whole, naming the file; duplicates (already stored, or
twice in one batch) are not queued again, and tags sent with a stored photo are added to it."""

from __future__ import annotations

import pytest

from loupe.ingest.items import ItemSpec
from loupe.ingest.jobs import JobKind
from loupe.ingest.stores import Stores
from loupe.ingest.uploads import (
    Refused,
    TextItem,
    UploadFile,
    image_specs,
    submit,
    text_specs,
)
from loupe.search.errors import InvalidInput
from tests.ingest.conftest import ids_in
from tests.workers.conftest import jpeg


def _files(*names: str) -> list[UploadFile]:
    return [
        UploadFile(n, "image/jpeg", b"not an image" if "bad" in n else jpeg(len(n))) for n in names
    ]


def test_a_bad_file_is_refused_in_its_place(stores: Stores) -> None:
    outcomes = image_specs(stores.pipeline, _files("a.jpg", "bad.jpg"), tags=["t"], metadata={})
    assert isinstance(outcomes[0], ItemSpec) and outcomes[0].tags == ["t"]
    assert stores.blobs.exists(outcomes[0].blob)
    assert isinstance(outcomes[1], Refused) and outcomes[1].filename == "bad.jpg"
    job, accepted = submit(stores.pipeline, outcomes, meta={"tenant": "t1"})
    assert job is not None and job.kind is JobKind.UPLOAD and job.total == 1
    assert job.meta == {"tenant": "t1"}
    assert [(a.status, a.filename) for a in accepted] == [
        ("queued", "a.jpg"),
        ("refused", "bad.jpg"),
    ]


def test_no_good_file_fails_the_upload_naming_the_file(stores: Stores) -> None:
    with pytest.raises(InvalidInput, match=r"^bad\.jpg: "):
        image_specs(stores.pipeline, _files("bad.jpg", "bad2.jpg"), tags=[], metadata={})
    with pytest.raises(InvalidInput, match="nothing to upload"):
        submit(stores.pipeline, [Refused("bad.jpg", "no")])
    with pytest.raises(InvalidInput, match=r"^item 2: "):
        text_specs(stores.pipeline, [TextItem("ok", [], {}), TextItem("   ", [], {})])


def test_duplicates_are_not_queued_again_and_their_tags_are_added(stores: Stores) -> None:
    pipeline = stores.pipeline
    first = image_specs(pipeline, _files("a.jpg"), tags=[], metadata={})
    job, _ = submit(pipeline, [*first, *first])  # the same photo twice in one batch
    assert job is not None and job.total == 1
    pipeline.process(job.id, [0])
    again = image_specs(pipeline, _files("a.jpg"), tags=["trip"], metadata={})
    job, accepted = submit(pipeline, again)
    assert job is None and [a.status for a in accepted] == ["duplicate"]
    live = pipeline.index.resolve_alias(pipeline.alias)
    assert live is not None and len(ids_in(stores, live)) == 1
    assert pipeline.index.retrieve(live, [accepted[0].id or ""])[0].payload["tags"] == ["trip"]
