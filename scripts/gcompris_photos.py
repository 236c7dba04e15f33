"""Write up to N real photos from Debian's GCompris data as JPEGs into a folder: a small library
to serve and search by hand or to benchmark (BENCHMARKS.md, "A library still in its tail").

GCompris's activities keep their pictures in Qt resource bundles (``gcompris-qt-data``; read by
``bench.evaluation.gcompris.read_rcc``): photos of objects, people, animals and monuments, each
folder with a README naming its author and licence. Bundles are read in name order; pictures
under 30 KB or 200 px are skipped (icons, drawings).

Usage: python scripts/gcompris_photos.py FOLDER [N]   (N: 300 by default)
Then: loupe serve --samples, and in another shell: loupe ingest FOLDER --wait
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from loupe.bench.evaluation.gcompris import RCC_DIR, RccError, read_rcc

PICTURES = (".jpg", ".jpeg", ".png", ".webp")
MIN_BYTES = 30_000
MIN_SIDE = 200


def extract(folder: Path, limit: int) -> int:
    """The number of photos written (at most ``limit``)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for bundle in sorted(RCC_DIR.glob("*.rcc")):
        try:
            entries = list(read_rcc(bundle.read_bytes()))
        except RccError:
            continue
        for name, data in entries:
            if not name.lower().endswith(PICTURES) or len(data) < MIN_BYTES:
                continue
            try:
                image = Image.open(io.BytesIO(data)).convert("RGB")
            except (UnidentifiedImageError, OSError):
                continue
            if min(image.size) < MIN_SIDE:
                continue
            image.save(folder / f"{bundle.stem}-{Path(name).stem}.jpg", quality=90)
            written += 1
            if written >= limit:
                return written
    return written


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    count = extract(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 300)
    print(f"{count} photos in {sys.argv[1]}")
