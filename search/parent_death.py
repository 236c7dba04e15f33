"""``die_with_parent``: a child process asks the kernel to SIGKILL it when its parent dies
(Linux ``PR_SET_PDEATHSIG``), so a killed server leaves no index builder, base host or embedder
running. Elsewhere (no ``libc.so.6``, no ``prctl``) it does nothing."""

from __future__ import annotations

import contextlib
import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Call first thing in a child process. The signal is sent when the thread that started
    the child exits, and is kept across ``exec`` but not ``fork``."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
