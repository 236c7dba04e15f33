"""Real small file systems for storage-fault tests: a tmpfs mounted for the test (needs root;
tests skip, saying why, where mounting is impossible), ballast files to fill it, read-only
remounts."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

MB = 1 << 20


def _mount(args: list[str]) -> str | None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    return (
        None if done.returncode == 0 else (done.stderr.strip() or f"mount exit {done.returncode}")
    )


@contextlib.contextmanager
def tmpfs(folder: Path, size_mb: int) -> Iterator[Path]:
    """A tmpfs of ``size_mb`` at ``folder`` for the block; skips the test if it cannot mount."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; this run is not root")
    problem = _mount(["-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)])
    if problem is not None:
        pytest.skip(f"cannot mount a tmpfs here: {problem}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def read_only(folder: Path, *, on: bool) -> None:
    """Remount the tmpfs at ``folder`` read-only (``on``) or read-write again."""
    problem = _mount(["-o", f"remount,{'ro' if on else 'rw'}", str(folder)])
    assert problem is None, problem


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def fill(folder: Path, *, leave: int) -> Path:
    """Grow a ballast file in ``folder`` until about ``leave`` bytes are free."""
    ballast = folder / "ballast.bin"
    chunk = b"\xa5" * MB
    with ballast.open("ab") as fh:
        while free_bytes(folder) - MB >= leave:
            fh.write(chunk)
            fh.flush()
        rest = free_bytes(folder) - leave
        with contextlib.suppress(OSError):  # leave=0: the last write meets ENOSPC
            fh.write(b"\xa5" * max(rest, 0))
            fh.flush()
    return ballast
