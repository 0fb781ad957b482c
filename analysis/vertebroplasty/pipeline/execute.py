"""Running the declared notebooks with papermill: in dependency order, several at a time, stopping at the first failure.

Each notebook runs in a thread with a kernel of its own (papermill's API, given our kernel manager), so the build
can stop every kernel at once — when a notebook fails or on Ctrl-C — instead of waiting for the others.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vertebroplasty.pipeline import kernels
from vertebroplasty.pipeline.cache import NotebookCache
from vertebroplasty.pipeline.declaration import Notebook

KERNEL = "python3"
#: Rough run time of each notebook on the default cohort (seconds, this machine), for scheduling only.
EXPECTED_SECONDS = {"comparisons": 5.0, "reanalysis": 4.0, "audit": 3.5, "patients": 3.0, "cases": 2.5, "centres": 4.0}


class NotebookError(RuntimeError):
    """A notebook failed: which one, which cell, and the error — without the traceback."""

    def __init__(self, notebook: str, cell: int | None, source: str, error: str):
        self.notebook, self.cell, self.error = notebook, cell, error
        where = f"cell [{cell}]" if cell is not None else "before its first cell"
        first_line = source.strip().splitlines()[0] if source.strip() else ""
        super().__init__(f"notebook {notebook!r} failed in {where}" + (f" ({first_line[:80]})" if first_line else "") + f": {error}")


@dataclass
class Run:
    name: str
    entry: Path  # folder holding notebook.ipynb and files/
    how: str  # "executed" or "cached"
    seconds: float


class Runner:
    """Executes notebooks, reusing cached runs, and can stop all running kernels at once."""

    def __init__(self, cache: NotebookCache, scratch_parent: Path, inputs: Path):
        self.cache = cache
        self.scratch_parent = scratch_parent
        self.inputs = inputs  # finished runs' files are linked here as <name>/, where later notebooks read them
        inputs.mkdir(parents=True, exist_ok=True)
        self.kernels: dict[str, object] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = kernels.new_server()  # started when a notebook first has to run

    def close(self) -> None:
        """Stop the kernel server (every kernel has been shut down by then)."""
        if self.server is not None:
            self.server.stop()

    def run(self, notebook: Notebook, parameters: dict, key: str) -> Run:
        began = time.perf_counter()
        entry = self.cache.entry(notebook.name, key)
        how = "cached"
        if entry is None:
            how = "executed"
            scratch = self.cache.scratch(notebook.name, self.scratch_parent)
            try:
                self._execute(notebook, parameters, scratch)
            except BaseException:
                shutil.rmtree(scratch, ignore_errors=True)
                raise
            entry = self.cache.store(notebook.name, key, scratch)
        (self.inputs / notebook.name).symlink_to(entry / "files", target_is_directory=True)
        return Run(notebook.name, entry, how, time.perf_counter() - began)

    def _execute(self, notebook: Notebook, parameters: dict, scratch: Path) -> None:
        import papermill
        from papermill.exceptions import PapermillExecutionError

        if self.stopping.is_set():
            raise KeyboardInterrupt
        run_parameters = {name: value for name, value in parameters.items() if name in notebook.parameters}
        if "output_dir" in notebook.parameters:
            run_parameters["output_dir"] = str(scratch / "files")
        (scratch / "files").mkdir()
        with ipc_kernel(self.server) as manager:
            with self.lock:
                self.kernels[notebook.name] = manager
            try:
                papermill.execute_notebook(str(notebook.source), str(scratch / "notebook.ipynb"), parameters=run_parameters,
                                           kernel_name=KERNEL, progress_bar=False, log_output=False, km=manager)
            except PapermillExecutionError as error:
                raise NotebookError(notebook.name, error.exec_count, _cell_source(scratch / "notebook.ipynb", error.exec_count),
                                    f"{error.ename}: {error.evalue}") from None
            except Exception as error:  # a dead kernel (stopped by us, or crashed), a failed start
                if self.stopping.is_set():
                    raise KeyboardInterrupt from None
                raise NotebookError(notebook.name, None, "", f"{type(error).__name__}: {error}") from None
            finally:
                with self.lock:
                    self.kernels.pop(notebook.name, None)

    def stop(self) -> None:
        """Kill every running kernel now; their notebooks end with an error the build ignores."""
        self.stopping.set()
        with self.lock:
            managers = list(self.kernels.values())
        for manager in managers:
            try:
                if manager.has_kernel:
                    manager.provisioner.process.kill()
            except Exception:  # already gone
                pass


@contextmanager
def ipc_kernel(server: kernels.KernelServer | None = None):
    """A kernel manager for papermill (``km=``) on IPC transport — Unix sockets in a temporary folder instead of TCP on
    localhost: nothing listens on a port, and ipykernel has no reason to warn that its TCP traffic is unencrypted.
    Asynchronous, so that its client notices a killed kernel within a second; the kernel is shut down on leaving.
    With a ``server``, the kernel is forked from it (:mod:`vertebroplasty.pipeline.kernels`)."""
    import uuid

    from jupyter_client import AsyncKernelManager
    from jupyter_core.utils import run_sync

    # short: a Unix socket's path may not exceed about 100 characters; with a server, inside its folder (gone with it)
    sockets = server.kernel_folder() if server is not None else Path(tempfile.mkdtemp(prefix="vpk-"))
    manager = AsyncKernelManager(kernel_name=KERNEL, transport="ipc", ip=str(sockets / "k"), connection_file=str(sockets / "c.json"))
    if server is not None:
        manager.kernel_id = str(uuid.uuid4())
        manager.provisioner = kernels.ForkedProvisioner(kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager)
        manager.provisioner.server = server
    try:
        yield manager
    finally:
        if manager.has_kernel:
            run_sync(manager.shutdown_kernel)(now=True)
        shutil.rmtree(sockets, ignore_errors=True)


def _cell_source(executed: Path, execution_count: int | None) -> str:
    """The source of the cell that ran with ``execution_count`` (papermill puts an error cell of its own at the top)."""
    import json

    try:
        cells = json.loads(executed.read_text())["cells"]
        return next("".join(cell["source"]) for cell in cells if cell.get("execution_count") == execution_count)
    except (OSError, ValueError, StopIteration):
        return ""


def run_all(notebooks: dict[str, Notebook], keys: dict[str, str], parameters: dict[str, dict], runner: Runner, workers: int,
            log=print) -> dict[str, Run]:
    """Run every notebook as soon as the ones it runs after are done, the longest chain first.

    The first failure (or Ctrl-C) stops every running kernel and cancels the notebooks not started; the error is
    raised after the threads have ended (within a second or two).
    """
    remaining = dict(notebooks)
    finished: dict[str, Run] = {}
    running: dict[Future, str] = {}

    def chain(name: str) -> float:  # expected seconds from this notebook to the end of its longest chain of dependants
        after = [other for other in notebooks.values() if name in other.after]
        return EXPECTED_SECONDS.get(name, 3.0) + max((chain(other.name) for other in after), default=0.0)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notebook")
    try:
        while remaining or running:
            ready = sorted((name for name, nb in remaining.items() if all(before in finished for before in nb.after)), key=chain, reverse=True)
            for name in ready[: max(0, workers - len(running))]:
                running[pool.submit(runner.run, remaining.pop(name), parameters[name], keys[name])] = name
            done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                run = future.result()  # raises the notebook's error
                finished[name] = run
                log(f"  [{len(finished)}/{len(notebooks)}] {name}: {run.how} ({run.seconds:.1f} s)")
    except BaseException as error:
        if not isinstance(error, KeyboardInterrupt):
            log(f"  {error}")
        runner.stop()
        for future in running:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return finished
