"""Grading kernels forked from a forker that imported torch
(autograd_lab_course.grading.warm_kernels):
each one a new process that behaves as a kernel started the usual way; the course and
classroom configs use them (tests/test_classroom.py grades a class with them through the
formgrader)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import AsyncKernelManager

from autograd_lab_course.grading import warm_kernels
from autograd_lab_course.grading.autograde import EXECUTE, GRADING_KERNEL
from autograd_lab_course.grading.warm_kernels import (
    WarmProvisioner,
    grading_kernelspec,
    install_grading_kernelspec,
    split_kernel_command,
)
from tests import forked_kernels

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "notebooks" / "exercises"

#: What a kernel reports about itself: the state a fork must not change.
PROBE = (
    "import json, os, sys\n"
    "print(json.dumps({'pid': os.getpid(), 'ppid': os.getppid(), 'cwd': os.getcwd(),\n"
    "  'path': sys.path,\n"
    "  'torch_loaded': 'torch' in sys.modules, 'names': sorted(k for k in globals()\n"
    "  if not k.startswith('_')), 'mark': os.environ.get('AUTOGRAD_LAB_MARK'),\n"
    "  'parent': os.environ.get('JPY_PARENT_PID'), 'argv0': sys.argv[0],\n"
    "  'sigchld': str(__import__('signal').getsignal(__import__('signal').SIGCHLD)),\n"
    "  'session': os.getsid(0) == os.getpid()}))\n"
)


async def _probe(kernel_name: str, cwd: Path, mark: str, then: str = "",
                 interrupt: bool = False) -> dict[str, Any]:
    km = AsyncKernelManager(kernel_name=kernel_name)
    env = {**os.environ, "AUTOGRAD_LAB_MARK": mark}
    await km.start_kernel(cwd=str(cwd), env=env)
    kc = km.client()
    kc.start_channels()
    lines: list[str] = []
    try:
        await kc.wait_for_ready(timeout=120)

        def keep(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                lines.append(msg["content"]["text"])

        await kc.execute_interactive(PROBE, timeout=120, output_hook=keep)
        if then:
            await kc.execute_interactive(then, timeout=120, output_hook=keep)
        if interrupt:  # as nbgrader does when a cell runs past Execute.timeout
            msg_id = kc.execute("while True: pass")
            await asyncio.sleep(1.0)
            await km.interrupt_kernel()
            reply = await kc.get_shell_msg(timeout=60)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = await kc.get_shell_msg(timeout=60)
            lines.append(json.dumps(reply["content"].get("ename")))
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return {**json.loads(lines[0]), "interrupted": json.loads(lines[-1]) if interrupt else None}


def test_command_split() -> None:
    py = sys.executable
    assert split_kernel_command([py, "-m", "ipykernel_launcher", "-f", "c.json"]) == (
        (py,), ["-f", "c.json"])
    assert split_kernel_command([py, "-Xfrozen_modules=off", "-m", "ipykernel_launcher",
                                 "-f", "c.json"]) == ((py, "-Xfrozen_modules=off"),
                                                      ["-f", "c.json"])
    # anything else is launched the usual way
    assert split_kernel_command([py, "script.py", "-m", "ipykernel_launcher"]) is None
    assert split_kernel_command(["R", "--slave", "-e", "IRkernel::main()"]) is None
    assert split_kernel_command([py, "-m", "ipykernel"]) is None


@pytest.mark.usefixtures("usual_kernels")  # the "usual" kernel: not the suite's forking spec
def test_forked_kernels_behave_as_new_kernels(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels of the grading kernelspec (installed here, as make env does) are forked."""
    warm_kernels.stop_forkers()
    installed = Path(install_grading_kernelspec(prefix=str(tmp_path / "prefix")))
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(
        p for p in (str(installed.parents[1]), os.environ.get("JUPYTER_PATH", "")) if p))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    async def run() -> tuple[dict, list[dict]]:
        usual = await _probe("python3", tmp_path / "a", "usual")
        first = await _probe(GRADING_KERNEL, tmp_path / "a", "first", then="secret = 42")
        second = await _probe(GRADING_KERNEL, tmp_path / "b", "second", then="secret = 7")
        third = await _probe(GRADING_KERNEL, tmp_path / "a", "third", interrupt=True)
        return usual, [first, second, third]

    usual, warm = asyncio.run(run())
    forkers = warm_kernels.running_forkers()
    assert len(forkers) == 1
    assert len({usual["pid"], forkers[0].process.pid, *(w["pid"] for w in warm)}) == 5
    assert not usual["torch_loaded"]
    for kernel, mark, cwd in zip(warm, ("first", "second", "third"), ("a", "b", "a"), strict=True):
        assert kernel["torch_loaded"]  # imported by the forker...
        assert kernel["names"] == usual["names"]  # ...but nothing in the student's namespace
        assert "torch" not in kernel["names"] and "secret" not in kernel["names"]
        assert kernel["mark"] == mark  # this launch's environment
        assert kernel["cwd"] == str(tmp_path / cwd)
        assert kernel["parent"] == str(os.getpid())
        assert kernel["argv0"] == usual["argv0"]
        assert kernel["sigchld"] == usual["sigchld"]  # the kernel can wait for its children
        assert kernel["session"] and usual["session"]  # its own process group
    assert warm[2]["interrupted"] == "KeyboardInterrupt"  # a runaway cell can be stopped
    # one forker made all three: shutting a kernel down (a signal to its process group) never
    # reached the forker
    assert {w["ppid"] for w in warm} == {forkers[0].process.pid}
    # the same import path as a kernel started the usual way in that directory
    assert warm[2]["path"] == usual["path"]
    assert warm[1]["path"] == [p.replace(str(tmp_path / "a"), str(tmp_path / "b"))
                               for p in usual["path"]]
    warm_kernels.stop_forkers()
    assert forkers[0].process.poll() is not None and not warm_kernels.running_forkers()


def test_an_idle_forker_exits() -> None:
    """When the grading process ends (stdin closes) or after waiting too long."""
    code = "from autograd_lab_course.grading.kernel_forker import serve; serve(2, {})"
    orphan = subprocess.Popen([sys.executable, "-c", code.format(600)], stdin=subprocess.PIPE)
    idle = subprocess.Popen([sys.executable, "-c", code.format(0.5)], stdin=subprocess.PIPE)
    try:
        assert orphan.stdin is not None
        orphan.stdin.close()
        assert orphan.wait(timeout=120) == 0
        assert idle.wait(timeout=120) == 0  # its stdin is still open
    finally:
        orphan.kill()
        idle.kill()


def test_the_course_configs_select_the_grading_kernel() -> None:
    """nbgrader's public setting ``Execute.kernel_name`` picks the grading kernelspec in every
    config; the autograde preprocessors are nbgrader's own list (read from nbgrader at run
    time) with Execute replaced by RecoveringExecute and FlagRebinding last."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.config.loader import PyFileConfigLoader

    from autograd_lab_course.grading.autograde import autograde_preprocessors

    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    assert dict(config.Execute) == EXECUTE
    assert Execute(config=config).kernel_name == GRADING_KERNEL
    nbgraders = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = autograde_preprocessors()
    assert Execute in nbgraders and len(ours) == len(nbgraders) + 1
    assert config.Autograde.autograde_preprocessors == ours
    deployed = json.loads((REPO / "deploy" / "jupyter-config" / "instructor" /
                           "nbgrader_config.json").read_text())
    assert deployed["Execute"] == EXECUTE
    assert deployed["Autograde"] == {"autograde_preprocessors": ours}


def test_make_env_installed_the_grading_kernelspec() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(GRADING_KERNEL)
    provisioner = spec.metadata["kernel_provisioner"]
    assert provisioner["provisioner_name"] == forked_kernels.PROVISIONER
    assert spec.argv == KernelSpecManager().get_kernel_spec("python3").argv


def test_grading_uses_public_extension_points_only() -> None:
    """A provisioner on jupyter_client's public base class, every abstract method written,
    named in a kernelspec's metadata; no private name of a dependency."""
    from jupyter_client.provisioning import KernelProvisionerBase, LocalProvisioner

    assert issubclass(WarmProvisioner, KernelProvisionerBase)
    assert not issubclass(WarmProvisioner, LocalProvisioner)
    assert not WarmProvisioner.__abstractmethods__
    assert grading_kernelspec()["metadata"]["kernel_provisioner"] == {
        "provisioner_name": forked_kernels.PROVISIONER}
    grading = REPO / "course" / "autograd_lab_course" / "grading"
    for path in grading.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for private in ("_async_pre_start_kernel", "_run_exitfuncs", "_launch_args",
                        "LocalProvisioner"):
            assert private not in text, f"{path.name} uses {private}"


def test_a_forker_that_died_gives_one_sentence() -> None:
    """E.g. its interpreter cannot import torch: the kernel start fails with a sentence."""
    dead = warm_kernels.Forker((sys.executable, "-c", "raise SystemExit(3)", "--"))
    try:
        assert dead.process.wait(timeout=60) == 3
        try:
            dead.fork([], str(REPO), {})
        except RuntimeError as error:
            assert str(error).startswith("the kernel forker ended before starting a kernel")
        else:
            raise AssertionError("fork() on a dead forker returned a kernel")
    finally:
        dead.stop()


def test_a_start_up_setting_gets_its_own_forker(monkeypatch: Any) -> None:
    """PYTHONHASHSEED (and the like) is read when an interpreter starts: not shared."""
    interpreter = (sys.executable,)
    class Standing:  # a forker that is not started (and so never gives up waiting)
        def __init__(self, interpreter: tuple[str, ...], env: dict | None = None) -> None:
            self.env = env

        def usable(self) -> bool:
            return True

    monkeypatch.setattr(warm_kernels, "Forker", Standing)
    monkeypatch.setattr(warm_kernels, "_forkers", {})
    base = {"PATH": "/bin", "PYTHONHASHSEED": "0"}
    zero = warm_kernels.forker_for(interpreter, base)
    assert warm_kernels.forker_for(interpreter, {**base, "JPY_SESSION_NAME": "b"}) is zero
    assert warm_kernels.forker_for(interpreter, {**base, "PYTHONHASHSEED": "1"}) is not zero
    assert warm_kernels.forker_for(interpreter, {**base, "OMP_NUM_THREADS": "1"}) is not zero


def test_the_test_suite_kernelspec_forks_unless_told_otherwise(
        request: pytest.FixtureRequest) -> None:
    """conftest.py points ``python3`` at the forking launcher (tests/forked_kernels.py)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.provisioning import KernelProvisionerFactory

    spec = KernelSpecManager().get_kernel_spec("python3")
    forking = spec.metadata.get("kernel_provisioner", {}).get("provisioner_name")
    if os.environ.get(forked_kernels.SWITCH) == "usual":
        assert forking is None
    else:
        assert forking == forked_kernels.PROVISIONER
        provisioner = KernelProvisionerFactory.instance().create_provisioner_instance(
            "k", spec, parent=None)
        assert type(provisioner) is warm_kernels.WarmProvisioner
    request.getfixturevalue("usual_kernels")
    assert "kernel_provisioner" not in KernelSpecManager().get_kernel_spec("python3").metadata



def test_a_forker_that_exits_is_reaped_at_once() -> None:
    """Issue 29: a forker's idle exit left a zombie, one more per grading batch."""
    import psutil

    forker = warm_kernels.Forker((sys.executable,))
    try:
        os.kill(forker.process.pid, 15)  # as its idle exit, seen from outside
        deadline = time.monotonic() + 30
        while forker.process.returncode is None:  # set by the reaper thread, not by us
            assert time.monotonic() < deadline, "the forker was not waited for"
            time.sleep(0.05)
        assert not psutil.pid_exists(forker.process.pid) or \
            psutil.Process(forker.process.pid).status() != psutil.STATUS_ZOMBIE
    finally:
        forker.stop()


@pytest.mark.usefixtures("usual_kernels")
def test_each_forked_kernel_gets_a_fresh_home_and_ipythondir(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 29: a graded notebook that writes an IPython start-up file (replacing a check)
    reaches no later kernel: each starts with an empty HOME and IPYTHONDIR of its own."""
    warm_kernels.stop_forkers()
    installed = Path(install_grading_kernelspec(prefix=str(tmp_path / "prefix")))
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join(
        p for p in (str(installed.parents[1]), os.environ.get("JUPYTER_PATH", "")) if p))
    sabotage = (
        "import os, pathlib\n"
        "startup = pathlib.Path(os.environ['IPYTHONDIR'], 'profile_default', 'startup')\n"
        "startup.mkdir(parents=True, exist_ok=True)\n"
        "(startup / 'sabotage.py').write_text('SABOTAGED = True')\n"
    )
    look = ("import json, os\nprint(json.dumps({'home': os.environ['HOME'], "
            "'ipythondir': os.environ['IPYTHONDIR'], 'sabotaged': 'SABOTAGED' in globals(), "
            "'empty': not os.path.exists(os.path.join(os.environ['IPYTHONDIR'], "
            "'profile_default', 'startup', 'sabotage.py'))}))\n")

    async def run_kernel(code: str) -> dict[str, Any]:
        km = AsyncKernelManager(kernel_name=GRADING_KERNEL)
        await km.start_kernel(cwd=str(tmp_path), env=dict(os.environ))
        kc = km.client()
        kc.start_channels()
        lines: list[str] = []
        try:
            await kc.wait_for_ready(timeout=120)
            await kc.execute_interactive(
                look + code, timeout=120,
                output_hook=lambda m: lines.append(m["content"]["text"])
                if m["msg_type"] == "stream" else None)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return json.loads(lines[0])

    async def run() -> tuple[dict, dict]:
        return await run_kernel(sabotage), await run_kernel("")

    first, second = asyncio.run(run())
    warm_kernels.stop_forkers()
    assert first["home"] != second["home"] and first["ipythondir"] != second["ipythondir"]
    assert first["home"] != os.path.expanduser("~")
    assert first["ipythondir"].startswith(first["home"])
    assert not second["sabotaged"] and second["empty"]
    assert not Path(first["home"]).exists()  # removed when that kernel ended
