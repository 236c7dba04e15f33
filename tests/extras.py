"""Which optional extras this environment has, for tests that need one.

The default install has no torch; ``loupe[clip]`` adds torch, transformers and
sentence-transformers (``scripts/test`` installs both, so CI runs every test).
"""

from __future__ import annotations

import importlib.util

import pytest

CLIP_EXTRA = all(
    importlib.util.find_spec(name) is not None
    for name in ("torch", "transformers", "sentence_transformers")
)
needs_clip = pytest.mark.skipif(not CLIP_EXTRA, reason="needs pip install 'loupe[clip]'")
