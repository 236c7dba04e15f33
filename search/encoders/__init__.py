"""Encoders: ``bundled`` (offline ConSE over shipped weights) and ``clip:<name or path>``."""

from __future__ import annotations

from loupe.search.encoders.base import (
    Encoder,
    EncoderUnavailable,
    ImageVectors,
    TextRole,
    Vectors,
    l2_normalise,
    pick_device,
)

__all__ = [
    "Encoder",
    "EncoderUnavailable",
    "ImageVectors",
    "TextRole",
    "Vectors",
    "l2_normalise",
    "make_encoder",
    "pick_device",
]


def make_encoder(
    spec: str,
    *,
    device: str = "auto",
    batch_size: int = 32,
    clip_text_model: str | None = None,
    threads: int | None = None,
) -> Encoder:
    """Build (not load) the encoder named by ``LOUPE_MODEL``: ``bundled`` or ``clip:<x>``."""
    if spec == "bundled" or spec.startswith("bundled:"):
        from loupe.search.encoders.bundled import BundledEncoder

        _, variant, version = [*spec.split(":"), "", ""][:3]
        if version not in ("", "v1", "v2"):
            raise EncoderUnavailable(f"unknown bundled version {version!r}: use v2 or v1")
        return BundledEncoder(
            variant=variant or None,
            device=device,
            batch_size=batch_size,
            threads=threads,
            concepts=version != "v1",
        )
    if spec.startswith("clip:"):
        from loupe.search.encoders.clip import ClipEncoder

        return ClipEncoder(
            spec.removeprefix("clip:"),
            text_model=clip_text_model,
            device=device,
            batch_size=batch_size,
        )
    raise EncoderUnavailable(
        f"unknown LOUPE_MODEL {spec!r}: use 'bundled' (works offline) or 'clip:<name or folder>'"
    )
