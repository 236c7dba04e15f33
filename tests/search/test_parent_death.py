"""``die_with_parent``: a child that called it is killed when its parent is, even by SIGKILL
(the parent runs no cleanup), and one that did not outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The middle process starts the child and relays its pid; the child sleeps.
CHILD = (
    "import os, sys, time\n"
    "from loupe.search.parent_death import die_with_parent\n"
    "if sys.argv[1] == 'yes':\n"
    "    die_with_parent()\n"
    "print(os.getpid(), flush=True)\n"
    "time.sleep(120)\n"
)
MIDDLE = (
    "import subprocess, sys\n"
    "child = subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]],"
    " stdout=subprocess.PIPE, text=True)\n"
    "print(child.stdout.readline().strip(), flush=True)\n"
    "child.wait()\n"
)


def alive(pid: int) -> bool:
    """Running or sleeping; a zombie (killed, not yet reaped by its new parent) is dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def orphan_after_killing_its_parent(call_it: bool) -> int:
    """The child's pid, once its parent has been SIGKILLed (the child may still be alive)."""
    middle = subprocess.Popen(
        [sys.executable, "-c", MIDDLE, CHILD, "yes" if call_it else "no"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert middle.stdout is not None
    pid = int(middle.stdout.readline())
    middle.stdout.close()
    assert alive(pid)
    middle.kill()
    middle.wait()
    return pid


def wait_dead(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("call_it", [True, False])
def test_a_child_dies_with_its_parent_only_when_it_asked_to(call_it: bool) -> None:
    pid = orphan_after_killing_its_parent(call_it)
    try:
        assert wait_dead(pid, 10.0 if call_it else 1.0) is call_it
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
