"""nbgrader's ``Execute`` where one bad cell costs one question: :class:`RecoveringExecute`.

nbgrader runs a submission top to bottom in one kernel. A cell that never gives the time
limit back (``while True: try: time.sleep(1) except BaseException: pass`` swallows the
interrupt nbgrader sends) or that ends the kernel (``os._exit(0)``) used to leave every
later cell without a kernel: every point lost. Here, when cell ``i`` raises nbclient's
``CellTimeoutError`` (no reply in :attr:`~nbclient.NotebookClient.timeout` s) or
``DeadKernelError``:

1. cell ``i`` gets one error output, one sentence: "this cell did not finish in N s" or
   "this cell ended the kernel"; it was stopped and is graded as failing;
2. the kernel is restarted (``KernelManager.restart_kernel(now=True)``: killed, then started
   again with the same kernelspec and arguments, so the grading sandbox applies to it as to
   the first) and given a new client;
3. the code cells before ``i`` that ran without an error run again in it, their stored
   outputs kept as they were (what the student and the instructor see is the first run);
   one of them that times out or ends the kernel in turn is skipped the same way;
4. grading goes on with cell ``i + 1``.

So the answer cell that hung is lost, and with it the test cells that need its answer; every
other question keeps its points. The timeout is nbgrader's ``Execute.timeout`` (the course
sets :data:`~autograd_lab_course.grading.autograde.EXECUTE`); ``interrupt_on_timeout`` is off
by default here, since an interrupt is what such a cell swallows.

After the last cell the kernel is asked, with code the grading sends (no cell of the
notebook), what the submission rebound: :func:`autograd_lab.exercises.fresh_copy.rebindings`,
loaded from its file (:data:`PROBE`); the answer goes to ``resources["rebindings"]`` for
:class:`~autograd_lab_course.grading.flag_rebinding.FlagRebinding`.

Everything used is public: nbgrader's ``Execute`` (nbconvert's ``ExecutePreprocessor`` on
nbclient's ``NotebookClient``): ``preprocess_cell``, ``execute_cell``,
``start_new_kernel_client``, ``on_cell_executed``, and jupyter_client's
``KernelManager.restart_kernel`` / ``KernelClient.execute_interactive``.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import secrets
from pathlib import Path
from typing import Any

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool

__all__ = ["PROBE", "RecoveringExecute", "probe_code", "stopped_output"]

#: The learner-package module whose ``rebindings(namespace)`` the kernel runs after the
#: last cell (read from its file, not imported: the notebook may have replaced the import).
PROBE = ("autograd_lab", "exercises", "fresh_copy.py")
#: Seconds the kernel gets to answer the rebinding question.
PROBE_TIMEOUT = 30


def stopped_output(reason: str) -> NotebookNode:
    """The one error output a stopped cell gets (``reason``: one sentence)."""
    return NotebookNode(output_type="error", ename="CellStopped", evalue=reason,
                        traceback=[reason])


def _probe_path() -> str | None:
    """The file of :data:`PROBE`, found without importing the package (or None)."""
    spec = importlib.util.find_spec(PROBE[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*PROBE[1:])
    return str(path) if path.is_file() else None


def probe_code(path: str, marker: str) -> str:
    """Kernel code printing ``marker`` then the JSON list of rebindings, leaving no name."""
    return (
        "def _autograd_lab_probe(path, marker):\n"
        "    import importlib.util, json\n"
        "    spec = importlib.util.spec_from_file_location('_autograd_lab_probe_module', path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    print(marker + json.dumps(module.rebindings(get_ipython().user_ns)))\n"
        f"_autograd_lab_probe({path!r}, {marker!r})\n"
        "del _autograd_lab_probe\n"
    )


class RecoveringExecute(Execute):
    """nbgrader's ``Execute``; a cell that times out or ends the kernel costs itself only."""

    interrupt_on_timeout = Bool(
        False,
        help="Interrupt the kernel at the cell timeout instead of stopping the cell and "
             "restarting the kernel (a cell that swallows the interrupt would then hold up "
             "every later cell).",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Any = None,
                   km: Any = None) -> tuple[NotebookNode, Any]:
        self.ran_ok: list[int] = []
        self.replaying = False
        self.rebindings: list[str] | None = None
        nb, resources = super().preprocess(nb, resources, km)
        resources = resources if resources is not None else {}
        resources["rebindings"] = (
            self.rebindings if self.rebindings is not None
            else ["the rebinding check could not run in the kernel"])
        return nb, resources

    def preprocess_cell(self, cell: NotebookNode, resources: Any,
                        index: int) -> tuple[NotebookNode, Any]:
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (CellTimeoutError, DeadKernelError) as error:
            cell = self.nb.cells[index]
            cell.outputs = [stopped_output(self.reason(error))]
            self.restart()
        if index == len(self.nb.cells) - 1:
            self.rebindings = self.ask_rebindings()
        return cell, resources

    def on_cell_executed(self, **kwargs: Any) -> None:  # nbclient hook: a reply came
        super().on_cell_executed(**kwargs)
        if not self.replaying and kwargs["execute_reply"]["content"].get("status") == "ok":
            self.ran_ok.append(kwargs["cell_index"])

    def reason(self, error: Exception) -> str:
        """The one sentence a stopped cell shows."""
        if isinstance(error, CellTimeoutError):
            return (f"This cell did not finish in {self.timeout} s; it was stopped and graded "
                    "as failing.")
        return "This cell ended the kernel; it was stopped and graded as failing."

    def restart(self) -> None:
        """A new kernel, with every earlier cell that had run without error run again."""
        assert self.km is not None
        if self.kc is not None:
            self.kc.stop_channels()
        # jupyter_client's restart: kill the kernel, start it again with the same arguments
        run_sync(self.km.restart_kernel)(now=True)
        self.start_new_kernel_client()
        self.replaying = True
        try:
            for index in list(self.ran_ok):
                original = self.nb.cells[index]
                try:
                    self.execute_cell(copy.deepcopy(original), index, store_history=True)
                except (CellTimeoutError, DeadKernelError):
                    self.ran_ok.remove(index)
                    self.nb.cells[index] = original
                    self.restart()  # replays the rest again, without this cell
                    return
                finally:
                    self.nb.cells[index] = original  # the first run's outputs stay
        finally:
            self.replaying = False

    def ask_rebindings(self) -> list[str] | None:
        """The kernel's :func:`rebindings` of the notebook's names (None: no answer)."""
        path = _probe_path()
        if path is None or self.kc is None:
            return None
        marker = f"autograd-lab-rebindings-{secrets.token_hex(8)}:"
        printed: list[str] = []

        def keep(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream" and msg["content"].get("name") == "stdout":
                printed.append(msg["content"]["text"])

        try:
            run_sync(self.kc.execute_interactive)(
                probe_code(path, marker), store_history=False, allow_stdin=False,
                timeout=PROBE_TIMEOUT, output_hook=keep)
        except Exception:  # noqa: BLE001 - no answer is reported as such
            return None
        for line in "".join(printed).splitlines():
            if line.startswith(marker):
                try:
                    found = json.loads(line[len(marker):])
                except ValueError:
                    return None
                return [str(item)[:200] for item in found] if isinstance(found, list) else None
        return None
