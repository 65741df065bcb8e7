"""Import probes: run a few lines of Python in a process of their own, and see what they
print (usually which modules ``sys.modules`` holds afterwards).

Each probe used to start a new interpreter, and each paid torch's import (about 2.3 s):
six import probes and the workspace command's two runs in ``make check``.
:class:`ImportProbe` starts one interpreter per pytest worker that imports torch and
nothing else of the kit's (the ``import_probe`` fixture in conftest.py), then forks a copy
of it for each probe: a probe starts from ``import torch`` done, the state every probe's
own first line reached anyway (they all import the kit, which imports torch). What a probe
asserts is absent (matplotlib, IPython, ipywidgets) was checked absent after that import,
so it cannot be carried in by the shared start. A probe that needs torch itself absent
starts its own interpreter instead (``tests/test_package_split.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass

#: What the probes check stays out of ``sys.modules``: the shared start must not import it.
MUST_NOT_PRELOAD = ("matplotlib", "IPython", "ipywidgets", "autograd_lab", "google.colab")

SERVER = r"""
import json, os, select, sys, traceback
import torch  # the one thing every probe imports anyway (through autograd_lab)
reply = sys.stdout
print(json.dumps(sorted(sys.modules)), file=reply, flush=True)
for line in sys.stdin:
    code = json.loads(line)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the probe: a copy of this process, its output into the two pipes
        status = 1
        try:
            os.close(out_r); os.close(err_r)
            os.dup2(out_w, 1); os.dup2(err_w, 2)
            sys.stdin = open(os.devnull)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False)
            try:
                exec(compile(code, "<probe>", "exec"), {"__name__": "__main__"})
                status = 0
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except BaseException:
                traceback.print_exc()
            sys.stdout.flush(); sys.stderr.flush()
        finally:
            os._exit(status)
    os.close(out_w); os.close(err_w)
    out = err = ""
    chunks = {out_r: [], err_r: []}
    while chunks:
        ready, _, _ = select.select(list(chunks), [], [])
        for fd in ready:
            data = os.read(fd, 1 << 16)
            if data:
                chunks[fd].append(data)
            else:
                os.close(fd)
                text = b"".join(chunks.pop(fd)).decode(errors="replace")
                if fd == out_r:
                    out = text
                else:
                    err = text
    _, status = os.waitpid(pid, 0)
    print(json.dumps([os.waitstatus_to_exitcode(status), out, err]), file=reply, flush=True)
"""


@dataclass(frozen=True)
class ProbeResult:
    """What one probe left: like ``subprocess.CompletedProcess`` with text output."""

    returncode: int
    stdout: str
    stderr: str


class ImportProbe:
    """One waiting interpreter (torch imported); :meth:`run` forks it for each probe."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, bufsize=1,
        )
        self._lock = threading.Lock()
        assert self._process.stdout is not None
        preloaded = set(json.loads(self._process.stdout.readline()))
        carried = [m for m in MUST_NOT_PRELOAD if m in preloaded]
        assert not carried, f"importing torch imported {carried}: the probes would be wrong"

    def run(self, code: str) -> ProbeResult:
        """``python -c code`` in a copy of the waiting interpreter."""
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            self._process.stdin.write(json.dumps(code) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the probe interpreter ended; see the test's captured stderr")
        returncode, stdout, stderr = json.loads(line)
        return ProbeResult(returncode, stdout, stderr)

    def close(self) -> None:
        """End the waiting interpreter."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
