"""Deep graphs never crash the process (issue: a 60,000-node chain segfaulted when freed).

Each case runs in a forked copy of the test process, since the failure it guards against
kills the interpreter: a chain is built, every graph-walking function is called on it, the
chain is let go, and the copy must exit 0 having printed one sentence per function. (A copy,
not a new interpreter: torch is imported already, which saved about 2 s per case.) The
one-megabyte stack is that of a thread made with ``threading.stack_size``, as a process'
main thread gets from ``ulimit -s 1024`` (and Windows' default).
"""

from __future__ import annotations

import os
import sys
import threading

import pytest
import torch

from autograd_lab.graph import NODE_CAP, too_large_message

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (Linux, macOS)")

SCRIPT = """
import gc, sys
import torch
from autograd_lab import autograd_graph, draw_graph, trace_backward
n, op, keep = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "keep"
x = torch.tensor([1.0, 2.0], requires_grad=True)
y, kept = x, None
for i in range(n):
    y = y * 1.0 if op == "mul" else (-y if op == "neg" else y[[0, 1]])
    if keep and i == n // 10:  # most of the chain hangs above the kept tensor
        kept = y
for walker in (autograd_graph, draw_graph, trace_backward):
    try:
        walker(y, gradient=torch.ones(2)) if walker is trace_backward else walker(y)
    except ValueError as exc:
        print(exc)
    else:
        print("walked")
del y
gc.collect()
if kept is not None:
    kept.sum().backward()  # the kept half of the graph still works
    print("kept", x.grad.tolist())
    del kept
    gc.collect()
print("freed")
"""


def _child(n: int, op: str, keep: bool, stack_kib: int | None, out: int) -> None:
    """In the forked copy: SCRIPT with its prints into ``out``, then exit (never returns)."""
    status = 1
    try:
        torch.set_num_threads(1)  # the parent's thread pool did not survive the fork
        sys.stdout = sys.stderr = os.fdopen(out, "w", buffering=1)
        sys.argv = ["-c", str(n), op, "keep" if keep else "all"]
        code = compile(SCRIPT, "<deep graph>", "exec")
        failed: list[BaseException] = []

        def main() -> None:
            try:
                exec(code, {"__name__": "__main__"})
            except BaseException as exc:  # noqa: BLE001 - reported through the pipe
                failed.append(exc)

        if stack_kib is None:
            main()
        else:
            threading.stack_size(stack_kib * 1024)
            thread = threading.Thread(target=main)
            thread.start()
            thread.join()
        if failed:
            print(f"failed: {failed[0]!r}"[:2000])
        else:
            status = 0
        sys.stdout.flush()
    finally:
        os._exit(status)


def run(n: int, op: str, keep: bool = False, stack_kib: int | None = None) -> list[str]:
    """SCRIPT's printed lines, run in a forked copy (on a ``stack_kib`` KiB thread stack)."""
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        stream.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(n, op, keep, stack_kib, write_end)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        printed = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (os.waitstatus_to_exitcode(status),
                                                    printed[-2000:])
    return printed.splitlines()


def test_sixty_thousand_chain_with_a_kept_intermediate_tensor():
    assert run(60_000, "mul", keep=True) == [too_large_message()] * 3 + [
        "kept [1.0, 1.0]", "freed"]


def test_million_node_chain_let_go():
    # -y is the cheapest op to record (half the time and memory of y * 1.0); torch frees
    # every node kind the same way
    assert run(1_000_000, "neg") == [too_large_message()] * 3 + ["freed"]


def test_graph_at_the_cap_walked_and_freed_on_a_one_megabyte_stack():
    # indexing (IndexBackward0) crashed earliest of the node kinds measured: about 3,800
    # touched nodes on a 1 MB stack, the size of Windows' default
    assert run(NODE_CAP - 1, "index", keep=True, stack_kib=1024) == [
        "walked", "walked", "walked", "kept [1.0, 1.0]", "freed"]
