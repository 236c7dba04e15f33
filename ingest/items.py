"""Items: what one uploaded image or text becomes — a blob, a deterministic id, a payload."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Fixed namespace: point ids are uuid5(namespace, "<modality>:<sha256>") so a retry overwrites;
# a tenant's items are uuid5(namespace, "<tenant>/<modality>:<sha256>"): the same bytes become one
# item per tenant, and the ids of a library without tenants stay what they always were.
ITEM_NAMESPACE = uuid.UUID("6c0d7d3e-6f0a-4b51-9d0e-6c6f75706531")


class Modality(StrEnum):
    IMAGE = "image"
    TEXT = "text"


def item_id(modality: Modality, sha256: str, tenant: str | None = None) -> str:
    """The point id of a content hash and modality (uuid5) within a tenant's library (or the
    library without tenants): the same content, the same id."""
    name = f"{modality.value}:{sha256}"
    return str(uuid.uuid5(ITEM_NAMESPACE, f"{tenant}/{name}" if tenant else name))


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """Everything needed to embed one item later, small enough to travel in a task or a row.

    ``blob`` is the sha256 key of the original in the blob store (images) or of the UTF-8 text.
    ``tenant`` names the library the item belongs to (None: the library without tenants).
    """

    id: str
    modality: Modality
    blob: str
    filename: str | None = None
    mime: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    tenant: str | None = None
    taken_at: float | None = None  # EXIF capture date; the payload falls back to created_at

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "modality": self.modality.value,
            "blob": self.blob,
            "filename": self.filename,
            "mime": self.mime,
            "width": self.width,
            "height": self.height,
            "size": self.size,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
            "created_at": self.created_at,
            "tenant": self.tenant,
            "taken_at": self.taken_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemSpec:
        return cls(
            id=str(data["id"]),
            modality=Modality(data["modality"]),
            blob=str(data["blob"]),
            filename=data.get("filename"),
            mime=data.get("mime"),
            width=data.get("width"),
            height=data.get("height"),
            size=data.get("size"),
            tags=list(data.get("tags") or []),
            metadata=dict(data.get("metadata") or {}),
            created_at=float(data.get("created_at") or time.time()),
            tenant=data.get("tenant") or None,
            taken_at=_float_or_none(data.get("taken_at")),
        )

    @classmethod
    def from_payload(cls, point_id: str, payload: dict[str, Any]) -> ItemSpec:
        """The spec of a stored point (its payload names the blob ``sha256``)."""
        return cls.from_json({**payload, "id": point_id, "blob": payload["sha256"]})

    def payload(self, *, model_id: str, text: str | None = None) -> dict[str, Any]:
        """The payload stored beside the vectors in the index."""
        body: dict[str, Any] = {
            "modality": self.modality.value,
            "sha256": self.blob,
            "filename": self.filename,
            "mime": self.mime,
            "width": self.width,
            "height": self.height,
            "size": self.size,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
            "created_at": self.created_at,
            "taken_at": self.taken_at if self.taken_at is not None else self.created_at,
            "model_id": model_id,
        }
        if text is not None:
            body["text"] = text
        if self.tenant is not None:
            body["tenant"] = self.tenant
        return body


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
