"""Where a sparse file holds data. qdrant-edge preallocates files of 32 MB and more, mostly
holes (an appendable segment's pages, a WAL, the trackers); a build's copies keep those holes
(``edge_build.sparse_copy``) and a base's host locks only the data (``edge_pin``)."""

from __future__ import annotations

import errno
import os


def data_extents(fd: int, size: int) -> list[tuple[int, int]] | None:
    """The data extents ``(start, end)`` of the open file ``fd`` of ``size`` bytes, in order
    (``SEEK_DATA``/``SEEK_HOLE``); None where the file system cannot tell holes from data."""
    out: list[tuple[int, int]] = []
    offset = 0
    try:
        while offset < size:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # only a hole after offset
                    break
                raise
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            offset = end
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):
            raise
        return None
    return out
