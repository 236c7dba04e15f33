"""``ingest.items``: the point id of a content hash is the same every time, per modality and
tenant; a spec round-trips through JSON and through the payload it writes; the payload dates an
item by its capture date, or its upload time without one."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from loupe.ingest.items import ItemSpec, Modality, item_id

SHA = "ab" * 32


BASE = ItemSpec(
    id=item_id(Modality.IMAGE, SHA, "t1"),
    modality=Modality.IMAGE,
    blob=SHA,
    filename="cat.jpg",
    mime="image/jpeg",
    width=40,
    height=30,
    size=1234,
    tags=["pet"],
    metadata={"camera": "X"},
    created_at=1000.0,
    tenant="t1",
    taken_at=500.0,
)


def _spec(**changes: Any) -> ItemSpec:
    return replace(BASE, **changes)


def test_item_ids_are_deterministic_per_modality_and_tenant() -> None:
    image = item_id(Modality.IMAGE, SHA)
    assert image == item_id(Modality.IMAGE, SHA) and uuid.UUID(image).version == 5
    others = {item_id(Modality.TEXT, SHA), item_id(Modality.IMAGE, SHA, "t1"), image}
    assert len(others) == 3


def test_a_spec_round_trips_through_json_and_its_payload() -> None:
    spec = _spec()
    assert ItemSpec.from_json(spec.to_json()) == spec
    payload = spec.payload(model_id="m1", text=None)
    assert payload["sha256"] == SHA and payload["model_id"] == "m1"
    assert payload["tenant"] == "t1" and "text" not in payload
    assert ItemSpec.from_payload(spec.id, payload) == spec


def test_the_payload_dates_by_capture_then_upload() -> None:
    assert _spec().payload(model_id="m")["taken_at"] == 500.0
    assert _spec(taken_at=None).payload(model_id="m")["taken_at"] == 1000.0
    untenanted = _spec(tenant=None).payload(model_id="m", text="a cat")
    assert "tenant" not in untenanted and untenanted["text"] == "a cat"


def test_old_or_odd_json_reads_safely() -> None:
    raw = {"id": "x", "modality": "text", "blob": SHA, "tenant": "", "taken_at": True}
    spec = ItemSpec.from_json(raw)
    assert spec.tenant is None and spec.taken_at is None and spec.tags == []
    assert spec.created_at > 0  # missing: now
