"""The PyTorch side of a benchmark run, in a process of its own.

In one process PyTorch's and Numba's thread pools slowed each other by up to 8x, so the
runner starts this worker (`python -m bench.worker`) with the thread count in its environment,
where OpenMP, MKL and OpenBLAS read it when they load, and drives it over a pipe with the same
requests as the in-process runner: setup, round, teardown. What it builds arrives as a
picklable `Side`, so it does not import tapegrad (only a registry op whose `torch_ref` is a
lambda is looked up there, after torch has started its threads). Its environment is the one
taken at `import bench`, not one that tapegrad's import has changed (it sets OpenMP's spin
policy, which would change PyTorch's timings too).
"""
import os
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection

from bench import START_ENV
from bench.timing import LocalRunner, RemoteError, describe

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class TorchWorker:
    """The runner interface (setup / round / teardown) over a pipe to a worker process."""

    def __init__(self, threads):
        env = dict(START_ENV)
        env.update({name: str(threads) for name in THREAD_VARIABLES})
        env["BENCH_THREADS"] = str(threads)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.worker"], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)
        self.outbox = Connection(os.dup(self.proc.stdin.fileno()), readable=False)
        self.inbox = Connection(os.dup(self.proc.stdout.fileno()), writable=False)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.facts = self._ask()

    def _ask(self, *request):
        try:
            if request:
                self.outbox.send(request)
            status, value = self.inbox.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise RemoteError(f"the PyTorch worker died ({self._log_tail()})") from None
        if status != "ok":
            raise RemoteError(value)
        return value

    def _log_tail(self):
        self.log.seek(0)
        lines = [line for line in self.log.read().splitlines() if line.strip()]
        return lines[-1] if lines else f"exit code {self.proc.poll()}"

    def alive(self):
        return self.proc.poll() is None

    def setup(self, side, dtype, warmup_time, self_timed=False, warmup=True):
        return self._ask("setup", side, dtype, warmup_time, self_timed, warmup)

    def round(self, number):
        return self._ask("round", number)

    def teardown(self):
        return self._ask("teardown")

    def close(self):
        try:
            self.outbox.send(("exit",))
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.outbox.close()
        self.inbox.close()
        self.log.close()


def _facts(torch):
    info = torch.__config__.parallel_info().splitlines()
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "mkl": bool(torch.backends.mkl.is_available()),
        "parallel_backend": next((line.split(":", 1)[1].strip() for line in info
                                  if line.startswith("ATen parallel backend")), None),
        "env": {name: os.environ.get(name) for name in THREAD_VARIABLES},
    }


def main():
    # The pipe to the runner is a copy of stdout; stdout itself now points at stderr, so
    # nothing printed by torch or by a workload can corrupt the channel.
    channel = os.dup(1)
    os.dup2(2, 1)
    inbox, outbox = Connection(0, writable=False), Connection(channel, readable=False)
    try:
        import torch
        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", torch.get_num_threads())))
        outbox.send(("ok", _facts(torch)))
    except Exception as exc:
        outbox.send(("error", f"PyTorch could not start: {describe(exc)}"))
        return
    runner = LocalRunner()
    while True:
        try:
            command, *args = inbox.recv()
        except EOFError:
            return
        except Exception as exc:          # e.g. a Side that does not unpickle here
            outbox.send(("error", describe(exc)))
            continue
        if command == "exit":
            return
        try:
            outbox.send(("ok", getattr(runner, command)(*args)))
        except Exception as exc:
            outbox.send(("error", describe(exc)))


if __name__ == "__main__":
    main()
