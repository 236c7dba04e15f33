"""Checks a server or worker runs before it starts: a bad model setting fails in one sentence."""

from __future__ import annotations

import click

from loupe.api.settings import Settings
from loupe.search.encoders import EncoderUnavailable, make_encoder


def check_model(settings: Settings) -> None:
    """Refuse to start when ``LOUPE_MODEL``/``LOUPE_DEVICE`` cannot run in this install.

    Builds the encoder (cheap: no weights are read) and resolves its device, so an unknown
    model, a ``clip:`` model or a CUDA device without ``loupe[clip]`` is one line, not a
    traceback from inside the server's start-up.
    """
    try:
        encoder = make_encoder(
            settings.model, device=settings.device, clip_text_model=settings.clip_text_model
        )
        _ = encoder.device
    except EncoderUnavailable as exc:
        raise click.ClickException(str(exc)) from None
