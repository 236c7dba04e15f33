"""The encoders a process has loaded, by model_id, each with its own image micro-batcher.

A process embeds with the model of the collection it writes to: the live one normally, the
shadow one during a reindex. Encoders are built lazily from a ``LOUPE_MODEL`` spec; a model_id
seen in a collection stamp is mapped back to the spec that produces it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from loupe.search.encoders import Encoder, EncoderUnavailable, make_encoder
from loupe.search.encoders.image_batcher import EmbedBatcher
from loupe.search.encoders.text_towers import VARIANTS


class EncoderPool:
    def __init__(
        self,
        default_spec: str,
        *,
        device: str = "auto",
        batch_size: int = 32,
        wait_ms: float = 10.0,
        clip_text_model: str | None = None,
        threads: int | None = None,
    ) -> None:
        self._threads = threads
        self._device = device
        self._batch_size = batch_size
        self._wait_ms = wait_ms
        self._clip_text_model = clip_text_model
        self._lock = threading.Lock()
        self._encoders: dict[str, Encoder] = {}
        self._specs: dict[str, str] = {}
        self._batchers: dict[str, EmbedBatcher] = {}
        self.default = self.register(default_spec)

    def _build(self, spec: str) -> Encoder:
        return make_encoder(
            spec,
            device=self._device,
            batch_size=self._batch_size,
            clip_text_model=self._clip_text_model,
            threads=self._threads,
        )

    def register(self, spec: str) -> Encoder:
        """Build (lazily) the encoder for ``spec`` and remember it under its model_id."""
        encoder = self._build(spec)
        with self._lock:
            known = self._encoders.setdefault(encoder.model_id, encoder)
            self._specs.setdefault(encoder.model_id, spec)
        return known

    def spec_of(self, model_id: str) -> str:
        return self._specs.get(model_id) or self._guess_spec(model_id)

    def _candidates(self, model_id: str) -> Iterable[str]:
        yield model_id
        if model_id.startswith("bundled"):
            yield "bundled"
            yield from (f"bundled:{variant}" for variant in VARIANTS)
            yield from (f"bundled:{variant}:v1" for variant in VARIANTS)

    def _guess_spec(self, model_id: str) -> str:
        for spec in self._candidates(model_id):
            try:
                if self._build(spec).model_id == model_id:
                    return spec
            except EncoderUnavailable:
                continue
        raise EncoderUnavailable(f"no encoder produces model {model_id!r}")

    def get(self, model_id: str) -> Encoder:
        with self._lock:
            found = self._encoders.get(model_id)
        return found if found is not None else self.register(self.spec_of(model_id))

    def batcher(self, model_id: str) -> EmbedBatcher:
        encoder = self.get(model_id)
        with self._lock:
            if model_id not in self._batchers:
                self._batchers[model_id] = EmbedBatcher(
                    encoder, max_batch=self._batch_size, wait_ms=self._wait_ms
                )
            return self._batchers[model_id]

    def batchers(self) -> list[EmbedBatcher]:
        with self._lock:
            return list(self._batchers.values())

    def close(self) -> None:
        with self._lock:
            batchers = list(self._batchers.values())
            self._batchers.clear()
        for batcher in batchers:
            batcher.close()
