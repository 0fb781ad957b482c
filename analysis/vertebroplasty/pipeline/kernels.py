"""Kernels forked from a warm server: every notebook still runs in a new kernel process of its own, started by forking
a process that has already imported the scientific stack, instead of a new Python that imports it again.

A new ``python -m ipykernel_launcher`` spends about 1.3 s starting and importing IPython, numpy, pandas, scipy,
statsmodels and matplotlib before a notebook's first line does anything — a third of a default build's computing and
most of what a test run spends on its whole-report builds.  The server (:func:`serve`, one per build, started the first
time a notebook has to run) imports those modules once, then forks a child for each kernel the build asks for; the
child takes the kernel's working folder, environment and arguments and becomes an ordinary ipykernel.  The server
never runs notebook code, so a kernel holds nothing of another notebook: it is a fresh kernel whose imports are
already in memory.  jupyter-client sees it through :class:`ForkedProvisioner` (a provisioner is jupyter-client's own
seam for how a kernel process is launched); papermill and nbclient are unchanged.

Lifetimes: the server leaves when the build that started it ends or dies (it checks its parent every second), and a
kernel leaves when the server does (ipykernel's own parent poller), so a killed build leaves no process behind.
Linux and macOS only (``os.fork``); elsewhere, or with ``VERTEBROPLASTY_FORK_KERNELS=no``, kernels start as usual.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner

#: what the server imports once for every kernel (the notebooks' heavy imports, and ipykernel itself)
WARM_MODULES = ("ipykernel.kernelapp", "numpy", "pandas", "scipy.stats", "statsmodels.api", "matplotlib.pyplot", "pyarrow.parquet",
                "seaborn")
#: and every module of the package's analysis stages, which the notebooks call (the build's own code: one server per build)
WARM_PACKAGES = ("vertebroplasty.contract", "vertebroplasty.statistics", "vertebroplasty.paper", "vertebroplasty.writing")
LAUNCHER = ["-m", "ipykernel_launcher"]
STARTUP_SECONDS = 120


def enabled() -> bool:
    return hasattr(os, "fork") and os.environ.get("VERTEBROPLASTY_FORK_KERNELS", "yes") != "no"


def new_server() -> KernelServer | None:
    """A server for one build (started when first asked for a kernel), or None where kernels start the usual way."""
    return KernelServer() if enabled() else None


# --------------------------------------------------------------------------- the server (its own process)

def serve(socket_path: str) -> None:
    """Import :data:`WARM_MODULES`, then fork a kernel for each request on the Unix socket until the parent leaves."""
    parent = os.getppid()
    if sys.path and Path(sys.path[0]) == Path.cwd():
        del sys.path[0]  # as ipykernel_launcher does: the folder a kernel starts in is not where modules come from
    # ipykernel sets this before a notebook imports matplotlib; the server imports matplotlib first, so it sets it too
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    _import_as_in_a_kernel(WARM_MODULES + _modules_of(WARM_PACKAGES) + ("vertebroplasty.pipeline.notebook_outputs",))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished kernels are reaped by the system: no zombies
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle; it ends the server
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path + ".binding")
    os.rename(socket_path + ".binding", socket_path)  # the socket appears only once the server accepts
    listener.listen(8)
    listener.settimeout(1.0)
    try:
        while os.getppid() == parent:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(10)
                request = json.loads(connection.makefile("r", encoding="utf-8").readline())
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    _become_kernel(request)  # never returns
                connection.sendall((json.dumps({"pid": pid}) + "\n").encode())
    finally:  # the build is gone (killed outright): nothing of the server or its kernels' sockets stays behind
        shutil.rmtree(Path(socket_path).parent, ignore_errors=True)


class _KernelShell:
    """What a module that asks ``get_ipython()`` on import sees in a kernel: a shell with a kernel."""

    kernel = None


def _modules_of(packages: tuple[str, ...]) -> tuple[str, ...]:
    """Every module of ``packages``, subpackages included."""
    import importlib
    import pkgutil

    found = []
    for package in packages:
        module = importlib.import_module(package)
        found += [package] + [info.name for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")]
    return tuple(found)


def _import_as_in_a_kernel(modules: tuple[str, ...]) -> None:
    """Import ``modules`` as a notebook would: some modules decide on import whether they run in a kernel (pandas: how
    many columns a frame's text shows), and in the server they would otherwise decide "a terminal"."""
    import builtins
    import importlib

    builtins.get_ipython = _KernelShell
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        del builtins.get_ipython


def _become_kernel(request: dict) -> None:
    """In the forked child: take the kernel's session, folder, environment and arguments, and run ipykernel."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()  # a process group of its own, as jupyter-client gives a kernel it launches
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # ipykernel exits when its parent (the server) does; it read JPY_PARENT_PID when the server imported it, so say it
        sys.argv = ["ipykernel_launcher", *request["arguments"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


# --------------------------------------------------------------------------- the build's side

class KernelServer:
    """The build's handle on one server: started on first use, asked for kernels, stopped with the build."""

    def __init__(self):
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.folder: Path | None = None

    def start(self) -> None:
        """Start the server (it imports in the background); a build calls this as soon as it knows a notebook will run."""
        with self.lock:
            self._launch()

    def _launch(self) -> None:
        if self.process is None:
            self.folder = Path(tempfile.mkdtemp(prefix="vpz-"))  # short: a Unix socket's path may not exceed ~100 characters
            self.process = subprocess.Popen([sys.executable, "-m", "vertebroplasty.pipeline.kernels", str(self.folder / "s")],
                                            stdin=subprocess.DEVNULL)

    def _ready(self) -> Path:
        self._launch()
        path = self.folder / "s"
        deadline = time.monotonic() + STARTUP_SECONDS
        while not path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the kernel server did not start (exit status {self.process.poll()})")
            time.sleep(0.02)
        return path

    def fork(self, arguments: list[str], env: dict, cwd: str) -> int:
        """A new kernel process run as ``python -m ipykernel_launcher <arguments>``; its pid."""
        with self.lock:
            path = self._ready()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(STARTUP_SECONDS)
            client.connect(str(path))
            client.sendall((json.dumps({"arguments": arguments, "env": env, "cwd": cwd}) + "\n").encode())
            reply = client.makefile("r", encoding="utf-8").readline()
        if not reply:
            raise RuntimeError("the kernel server stopped before starting a kernel")
        return int(json.loads(reply)["pid"])

    def stop(self) -> None:
        with self.lock:
            if self.process is not None:
                self.process.kill()
                self.process.wait()
                self.process = None
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    def kernel_folder(self) -> Path:
        """A new folder for one kernel's sockets and connection file, inside the server's (removed with it)."""
        with self.lock:
            self._launch()
            return Path(tempfile.mkdtemp(prefix="k", dir=self.folder))


class ForkedProcess:
    """What jupyter-client expects of a kernel's ``Popen``, for a process that is the server's child, not ours."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0  # gone (the server reaps it; its exit status is not ours to read)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkedProvisioner(LocalProvisioner):
    """jupyter-client's local provisioner, launching ``python -m ipykernel_launcher`` by a fork of the server."""

    server: KernelServer | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs) -> dict:
        if self.server is None or cmd[1:3] != LAUNCHER:
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = self.server.fork(cmd[3:], dict(kwargs.get("env") or os.environ), cwd)
        self.process = ForkedProcess(pid)
        self.pid = self.pgid = pid
        self.cwd = cwd
        return self.connection_info


if __name__ == "__main__":
    serve(sys.argv[1])
