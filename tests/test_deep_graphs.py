"""Deep graphs never crash the process (issue: a 60,000-node chain segfaulted when freed).

Each case runs in a subprocess, since the failure it guards against kills the interpreter:
a chain is built, every graph-walking function is called on it, the chain is let go, and
the process must exit 0 having printed one sentence per function.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograd_lab.graph import NODE_CAP, too_large_message

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


def run(n: int, op: str, keep: bool = False, stack_kib: int | None = None) -> list[str]:
    preexec = None
    if stack_kib is not None:
        import resource

        def preexec() -> None:  # the stack limit of the child's main thread, like ulimit -s
            hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
            resource.setrlimit(resource.RLIMIT_STACK, (stack_kib * 1024, hard))

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(n), op, "keep" if keep else "all"],
        capture_output=True, text=True, timeout=600, preexec_fn=preexec,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    return result.stdout.splitlines()


def test_sixty_thousand_chain_with_a_kept_intermediate_tensor():
    assert run(60_000, "mul", keep=True) == [too_large_message()] * 3 + [
        "kept [1.0, 1.0]", "freed"]


def test_million_node_chain_let_go():
    # -y is the cheapest op to record (half the time and memory of y * 1.0); torch frees
    # every node kind the same way
    assert run(1_000_000, "neg") == [too_large_message()] * 3 + ["freed"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_STACK at exec: Linux")
def test_graph_at_the_cap_walked_and_freed_on_a_one_megabyte_stack():
    # indexing (IndexBackward0) crashed earliest of the node kinds measured: about 3,800
    # touched nodes on a 1 MB stack, the size of Windows' default
    assert run(NODE_CAP - 1, "index", keep=True, stack_kib=1024) == [
        "walked", "walked", "walked", "kept [1.0, 1.0]", "freed"]
