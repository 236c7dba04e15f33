"""The model stamp of a collection (which encoder filled it) and the check that refuses others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loupe.search.index.base import ModelMismatch


@dataclass(frozen=True, slots=True)
class Stamp:
    model_id: str
    dim: int
    visual_dim: int | None
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "dim": self.dim,
            "visual_dim": self.visual_dim,
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Stamp:
        visual = raw.get("visual_dim")
        return cls(
            model_id=str(raw["model_id"]),
            dim=int(raw["dim"]),
            visual_dim=int(visual) if visual is not None else None,
            created_at=float(raw.get("created_at", 0.0)),
        )


def check_stamp(name: str, have: Stamp, want: Stamp, *, visual: bool) -> None:
    """ModelMismatch unless ``have`` matches ``want`` (model, dim, and visual_dim if asked)."""
    same = have.model_id == want.model_id and have.dim == want.dim
    if visual:
        same = same and have.visual_dim == want.visual_dim
    if not same:
        raise ModelMismatch(
            f"collection {name!r} holds vectors of model {have.model_id!r} "
            f"(dim {have.dim}, visual {have.visual_dim}), not {want.model_id!r} "
            f"(dim {want.dim}, visual {want.visual_dim}): reindex into a new collection "
            "(loupe reindex) or select the matching model"
        )
