"""The alias map of the embedded store, and the claims in each collection's stamp that let it be
rebuilt when ``aliases.json`` is lost.

Every ``meta.json`` carries ``"aliases": {alias: set_at}``, the aliases its collection holds
and since when. Moving an alias writes the claim on the new collection first, then
``aliases.json``, then drops the old collection's claim, so after any crash the newest claim of
an alias names the collection it points at. On start a readable ``aliases.json`` wins and the
claims are brought in line with it; a missing, empty or damaged one is rebuilt from the claims
(newest claim per alias) with a WARNING, the damaged file kept aside as
``aliases.json.damaged-<time>``. With no claims at all (stamps written before claims existed)
nothing is guessed here: the caller sees no alias and decides (see ``ensure_live_collection``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FILE = "aliases.json"
CLAIMS = "aliases"

WriteJson = Callable[[Path, Any], None]


def _load_map(path: Path) -> dict[str, str]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ValueError("not a JSON object of alias → collection names")
    return dict(raw)


def read_claims(meta: Path) -> dict[str, float]:
    """The alias claims of one ``meta.json`` (empty when absent or unreadable)."""
    try:
        raw = json.loads(meta.read_text(encoding="utf-8")).get(CLAIMS) or {}
        return {str(k): float(v) for k, v in raw.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def set_claims(meta: Path, claims: dict[str, float], write: WriteJson) -> None:
    raw = json.loads(meta.read_text(encoding="utf-8"))
    if (raw.get(CLAIMS) or {}) != claims:
        write(meta, {**raw, CLAIMS: claims})


class AliasFile:
    """``<root>/aliases.json`` and the claims in ``<collections>/<name>/meta.json``."""

    def __init__(self, root: Path, collections: Path, write: WriteJson) -> None:
        self.path = root / FILE
        self.collections = collections
        self._write = write
        self._current: dict[str, str] = {}

    def _metas(self) -> dict[str, Path]:
        return {p.parent.name: p for p in sorted(self.collections.glob("*/meta.json"))}

    def read(self) -> dict[str, str]:
        """The alias map; rebuilt from the claims when the file is missing or damaged."""
        try:
            aliases = _load_map(self.path)
        except FileNotFoundError:
            aliases = self._rebuild("is missing") if self._metas() else {}
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            aliases = self._rebuild(f"is damaged ({exc})")
        else:
            self._sync(aliases)
        self._current = aliases
        return dict(aliases)

    def _rebuild(self, problem: str) -> dict[str, str]:
        newest: dict[str, tuple[float, str]] = {}
        for name, meta in self._metas().items():
            for alias, at in read_claims(meta).items():
                if alias not in newest or at > newest[alias][0]:
                    newest[alias] = (at, name)
        aliases = {alias: name for alias, (_, name) in sorted(newest.items())}
        if self.path.exists():
            aside = self.path.with_name(f"{FILE}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
            os.replace(self.path, aside)
            problem += f"; kept aside as {aside.name}"
        if aliases:
            self._write(self.path, aliases)
            self._sync(aliases)
        log.warning(
            "%s %s: rebuilt from the collections' stamps (newest claim per alias): %s",
            self.path,
            problem,
            ", ".join(f"{a} -> {c}" for a, c in aliases.items()) or "no stamp claims an alias",
        )
        return aliases

    def _sync(self, aliases: dict[str, str]) -> None:
        """Make every stamp claim exactly the aliases the map gives its collection."""
        now = time.time()
        for name, meta in self._metas().items():
            have = read_claims(meta)
            want = {a: have.get(a, now) for a, c in aliases.items() if c == name}
            if have != want:
                set_claims(meta, want, self._write)

    def write(self, aliases: dict[str, str]) -> None:
        """Claim on the new targets, replace the file, then release the old targets."""
        old, now = self._current, time.time()
        metas = self._metas()
        for alias, name in aliases.items():
            if old.get(alias) != name and name in metas:
                # Later than any claim of this alias, even if the clock stepped back.
                newest = max((read_claims(m).get(alias, 0.0) for m in metas.values()), default=0)
                claims = {**read_claims(metas[name]), alias: max(now, newest + 1e-3)}
                set_claims(metas[name], claims, self._write)
        self._write(self.path, aliases)
        self._current = dict(aliases)
        for alias, name in old.items():
            if aliases.get(alias) != name and name in metas and metas[name].exists():
                claims = read_claims(metas[name])
                claims.pop(alias, None)
                set_claims(metas[name], claims, self._write)
