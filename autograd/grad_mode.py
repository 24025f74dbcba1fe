"""Gradient mode: the one piece of global state (thread-local, like PyTorch's).

Changed only through `no_grad`, `enable_grad`, `set_grad_enabled` (context managers and
decorators) and read by `Function.apply` on every op.
"""
import functools
import threading


class _State(threading.local):
    enabled = True
    anomaly = False


state = _State()


def is_grad_enabled():
    return state.enabled


class _GradModeContext:
    """Base of the three grad-mode switches; each also works as a decorator."""

    mode = True

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc):
        state.enabled = self._prev

    def _fresh(self):
        return type(self)()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Ops run without recording the tape (inference, optimizer updates)."""

    mode = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a `no_grad` block."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to `mode`; like PyTorch it takes effect at construction, so a bare
    call `set_grad_enabled(False)` works too, and the `with` block restores the old mode."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = state.enabled
        state.enabled = self.mode

    def __enter__(self):
        pass

    def _fresh(self):
        return set_grad_enabled(self.mode)

    def __call__(self, fn):
        state.enabled = self._prev      # used as a decorator: construction must not leak
        return super().__call__(fn)


class detect_anomaly:
    """Check every gradient a backward produces; raise naming the op whose backward made
    the first non-finite value, and the index of that value. Context manager and decorator."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = state.anomaly
        state.anomaly = self.check_nan

    def __exit__(self, *exc):
        state.anomaly = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper
