"""``IngestSettings``: the ingest fields of the process's settings, handed to child processes
without any class of a package above ``ingest``."""

from __future__ import annotations

import pickle
from pathlib import Path

from loupe.api.settings import Settings
from loupe.ingest.settings import IngestSettings


def test_ingest_only_keeps_the_ingest_fields_and_no_api_class(tmp_path: Path) -> None:
    full = Settings(data_dir=tmp_path, enrichers="ocr", max_pixels=4096, admin_token="t" * 20)
    part = full.ingest_only()
    assert type(part) is IngestSettings
    assert set(type(part).model_fields) == set(IngestSettings.model_fields)
    for name in IngestSettings.model_fields:
        assert getattr(part, name) == getattr(full, name), name
    assert (part.blob_dir, part.jobs_db, part.index_dir) == (
        full.blob_dir,
        full.jobs_db,
        full.index_dir,
    )
    sent = pickle.dumps(part)
    assert b"loupe.api" not in sent and b"loupe.workers" not in sent
    assert pickle.loads(sent) == part
