"""The exercise checks' time limit inside a real ipykernel, where students run them.

What the red team found (issue 28): a student function that swallows every exception in a
loop (``except BaseException:``) or disarms the alarm (``signal.setitimer(ITIMER_REAL, 0)``)
ran past the limit, and swallowed Kernel → Interrupt too. Here each is run in a kernel started
the way JupyterLab starts one (jupyter_client, the python3 kernelspec), and the kernel's own
replies are read: a Verdict within the limit, the student's print reaching the notebook, and
Interrupt ending a check whose student code swallows everything.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]

SETUP = """
import signal
from autograd_lab.exercises import check_training_loop, student_code
student_code.TIME_LIMIT = 1.0

def swallows(*args):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass

def disarms(*args):
    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        pass

def prints(*args):
    print("printed by the student's code")
    raise ValueError("stop here")
"""


@pytest.fixture(scope="module")
def kernel():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT))
    try:
        run(client, SETUP)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(client, code: str, timeout: float = 60) -> tuple[str, dict]:
    """Execute ``code``; (everything it printed or displayed as text, the reply content)."""
    texts: list[str] = []

    def hook(message: dict) -> None:
        content = message["content"]
        if message["msg_type"] == "stream":
            texts.append(content["text"])
        elif message["msg_type"] in ("execute_result", "display_data"):
            texts.append(content["data"].get("text/plain", ""))
        elif message["msg_type"] == "error":
            texts.append(f"{content['ename']}: {content['evalue']}")

    reply = client.execute_interactive(code, output_hook=hook, timeout=timeout)
    return "".join(texts), reply["content"]


def wait_until_idle(client, message_id: str, timeout: float = 30) -> None:
    """Read the kernel's broadcasts until it reports idle after handling ``message_id``."""
    while True:
        message = client.get_iopub_msg(timeout=timeout)
        if (message["msg_type"] == "status"
                and message["parent_header"].get("msg_id") == message_id
                and message["content"]["execution_state"] == "idle"):
            return


@pytest.mark.parametrize("student", ["swallows", "disarms"])
def test_a_verdict_within_the_limit_whatever_the_student_does(kernel, student: str) -> None:
    _, client = kernel
    start = time.monotonic()
    text, reply = run(client, f"check_training_loop({student})")
    assert reply["status"] == "ok", text
    assert "did not finish in 1 s" in text, text
    assert time.monotonic() - start < 10  # the limit is 1 s; the kernel is on a shared machine


def test_what_the_students_code_prints_reaches_the_notebook(kernel) -> None:
    _, client = kernel
    text, reply = run(client, "check_training_loop(prints)")
    assert reply["status"] == "ok"
    assert "printed by the student's code" in text and "ValueError" in text, text


def test_kernel_interrupt_ends_a_check_that_swallows_everything(kernel) -> None:
    manager, client = kernel
    run(client, "student_code.TIME_LIMIT = 120.0")
    message_id = client.execute("check_training_loop(swallows)")
    time.sleep(2.0)  # the copy is in the student's loop
    start = time.monotonic()
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=30)
    while reply["parent_header"].get("msg_id") != message_id:
        reply = client.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - start < 10
    # ipykernel sends the error reply, then starts aborting queued requests, and goes idle only
    # once the abort is set to end. A request sent on seeing the reply can land inside that
    # window and come back "aborted" (CI saw it once), so wait for idle as JupyterLab's user,
    # who reads the traceback first, always does.
    wait_until_idle(client, message_id)
    text, after = run(client, "student_code.TIME_LIMIT = 1.0; print(6 * 7)")
    assert after["status"] == "ok" and "42" in text  # the kernel carries on
