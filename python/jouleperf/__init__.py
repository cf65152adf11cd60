"""jouleperf in Python: measure the energy of windows of a program (docs/python.md).

    import jouleperf
    mon = jouleperf.Monitor(sensors="auto")
    with mon.window("prefill") as w:
        ...
    print(w.measurement.energy_j, w.measurement.energy_source, w.measurement.estimated)

Every energy says where it came from (energy_source: counter, power-integral,
cpu-time-model) and whether it is estimated. Work in progress (issue 16): Monitor,
windows, the decorator and errors.
"""
import contextlib
import functools

from ._jouleperf import (Error, InvalidArgumentError, NotFoundError,  # noqa: F401
                         PermissionDeniedError, UnsupportedError)
from ._jouleperf import Monitor as _Monitor


class Measurement:
    """One measured window: energy_j (J), duration_s (s), power_w (mean, W),
    uncertainty_j (J, a bound), above_idle_j (J, or None without an idle baseline),
    energy_source, estimated, domains (one dict per sensor domain)."""

    def __init__(self, fields):
        self._fields = dict(fields)
        for key, value in self._fields.items():
            setattr(self, key, value)

    def to_dict(self):
        return dict(self._fields)

    def __repr__(self):
        kind = "ESTIMATED" if self.estimated else "measured"
        return (f"Measurement({self.name!r}: {self.energy_j:.4g} J +- {self.uncertainty_j:.2g} J "
                f"in {self.duration_s:.4g} s, {kind}, {self.energy_source})")


class Monitor:
    """Opens the sensors ("auto": every readable hardware sensor, else the CPU-time
    model; or a comma-separated list such as "rapl,nvml" or "cpu-model") and samples
    them on a C++ thread at `hz` readings per second. Raises jouleperf.Error (or a
    subclass) naming what failed and how to fix it."""

    def __init__(self, sensors="auto", hz=100.0, idle=None, powercap_root=""):
        names = [] if sensors in (None, "", "auto") else [s.strip() for s in sensors.split(",") if s.strip()]
        self._m = _Monitor(names, float(hz), str(powercap_root))
        if idle is not None:
            self._m.measure_idle(float(idle))

    def begin_window(self, name):
        """Begins the window `name` (windows may nest and overlap)."""
        self._m.begin_window(name)

    def end_window(self, name):
        """Ends the window `name` and returns its Measurement."""
        return Measurement(self._m.end_window(name))

    @contextlib.contextmanager
    def window(self, name):
        """`with mon.window("decode") as w:` ... `w.measurement` after the block."""
        holder = _Window()
        self.begin_window(name)
        try:
            yield holder
        finally:
            holder.measurement = self.end_window(name)

    @property
    def sensors(self):
        return self._m.sensors

    @property
    def estimated_only(self):
        return self._m.estimated_only


class _Window:
    measurement = None


def measure(monitor, name=None):
    """Decorator: each call of the function is a window; its Measurement goes to
    `wrapper.last_measurement`."""

    def wrap(fn):
        window = name or fn.__name__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with monitor.window(window) as w:
                result = fn(*args, **kwargs)
            wrapper.last_measurement = w.measurement
            return result

        wrapper.last_measurement = None
        return wrapper

    return wrap
