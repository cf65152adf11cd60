"""Measuring windows of a Python program: Monitor, Measurement and the measure decorator."""

import contextlib
import functools
import html
import inspect
import itertools
import threading

from . import _jouleperf


class Measurement:
    """One measured window.

    energy_j        energy over the window, J (the sum over the domains counted in the total)
    duration_s      the window's length, s
    power_w         mean power, W
    uncertainty_j   the +- bound from the sensors' resolution, update interval and sampling, J
    above_idle_j    energy above the idle baseline, J (None without one: Monitor(idle=...))
    idle_power_w    the idle baseline subtracted, W (None without one)
    energy_source   "counter", "power-integral", "cpu-time-model", or "mixed:" and the
                    sources, e.g. "mixed: counter power-integral" (RAPL beside a GPU's power)
    estimated       True when any figure in the total is estimated (the CPU-time model)
    below_resolution True when the window is shorter than a sensor's update interval
    domains         one dict per sensor domain (sensor, domain such as cpu-package:0 or
                    gpu:0, energy_j, power_w, uncertainty_j, above_idle_j, source, samples,
                    estimated, in_total: False for a sub-domain already counted elsewhere)
    """

    def __init__(self, fields):
        self._fields = dict(fields)
        self._fields["domains"] = [dict(d) for d in fields["domains"]]
        for key, value in self._fields.items():
            setattr(self, key, value)

    def to_dict(self):
        """Every field as a plain dict (domains as a list of dicts)."""
        out = dict(self._fields)
        out["domains"] = [dict(d) for d in self._fields["domains"]]
        return out

    @property
    def kind(self):
        """"ESTIMATED" or "MEASURED"."""
        return "ESTIMATED" if self.estimated else "MEASURED"

    def __repr__(self):
        idle = "" if self.above_idle_j is None else f", {self.above_idle_j:.4g} J above idle"
        return (f"<Measurement {self.name!r}: {self.energy_j:.4g} J +- {self.uncertainty_j:.2g} J "
                f"in {self.duration_s:.4g} s ({self.power_w:.4g} W){idle}, {self.kind}, {self.energy_source}>")

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{html.escape(d['sensor'])}</td><td>{html.escape(d['domain'])}</td>"
            f"<td>{d['energy_j']:.4g}</td><td>{d['power_w']:.4g}</td><td>{d['uncertainty_j']:.2g}</td>"
            f"<td>{'' if d['above_idle_j'] is None else format(d['above_idle_j'], '.4g')}</td>"
            f"<td>{html.escape(d['source'])}</td><td>{'yes' if d['in_total'] else 'no'}</td></tr>"
            for d in self.domains)
        return (f"<p><b>{html.escape(self.name)}</b>: {self.energy_j:.4g} J &plusmn; {self.uncertainty_j:.2g} J in "
                f"{self.duration_s:.4g} s, {self.power_w:.4g} W mean &mdash; <b>{self.kind}</b> "
                f"({html.escape(self.energy_source)})</p>"
                "<table><tr><th>sensor</th><th>domain</th><th>energy_j</th><th>power_w</th>"
                "<th>uncertainty_j</th><th>above_idle_j</th><th>source</th><th>in total</th></tr>"
                f"{rows}</table>")


class Monitor:
    """Samples energy sensors on a C++ thread and measures named windows.

    Monitor(sensors="auto", hz=100, idle=None, counter_hz=10)

    sensors     "auto": every readable hardware sensor (RAPL, NVML, ...), else the
                CPU-time model (its figures are ESTIMATED); or a comma-separated list
                such as "rapl,nvml" or "cpu-model". An unknown or unusable sensor raises
                jouleperf.Error (NotFoundError, PermissionDeniedError, ...) saying why
                and how to fix it.
    hz          readings per second of power sensors, in [0.1, 10000].
    counter_hz  readings per second of energy counters (RAPL, NVML total energy, the
                CPU-time model), in [0, 10000]; 0 = hz. A counter loses no energy
                between readings, so its rate only matters for the power trace.
    idle        seconds to measure the idle baseline now (the machine should be idle);
                each later window then reports above_idle_j.

    Windows may nest and overlap and may be used from several threads at once; each
    begin/end costs microseconds (it reads the sensors at the window's edges) and the
    sampler runs on its own C++ thread with the GIL released.

        mon = jouleperf.Monitor()
        with mon.window("prefill") as w:
            ...
        w.measurement.energy_j
    """

    def __init__(self, sensors="auto", hz=100.0, idle=None, powercap_root="", counter_hz=10.0):
        if sensors in (None, "", "auto"):
            names = []
        elif isinstance(sensors, str):
            names = [s.strip() for s in sensors.split(",") if s.strip()]
        else:
            names = [str(s) for s in sensors]
        self._m = _jouleperf.Monitor(names, float(hz), float(counter_hz), str(powercap_root))
        self._calls = itertools.count(1)
        if idle is not None:
            self.measure_idle(idle)

    def measure_idle(self, seconds):
        """Measures the idle baseline for `seconds` (s) now; later windows subtract it."""
        self._m.measure_idle(float(seconds))

    def begin_window(self, name):
        """Begins the window `name` (InvalidArgumentError when one of that name is open)."""
        self._m.begin_window(str(name))

    def end_window(self, name):
        """Ends the window `name` and returns its Measurement (NotFoundError when none is open)."""
        return Measurement(self._m.end_window(str(name)))

    @contextlib.contextmanager
    def window(self, name):
        """`with mon.window("decode") as w:` ... then `w.measurement` (also when the block
        raises). Each block is its own window, so the same name may be measured by
        several threads (or recursively) at once; open_windows shows it as NAME#N."""
        holder = Window(name)
        key = f"{name}#{next(self._calls)}"
        self.begin_window(key)
        try:
            yield holder
        finally:
            m = self.end_window(key)
            m.name = m._fields["name"] = name
            holder.measurement = m

    @property
    def open_windows(self):
        """Names of the windows open now."""
        return self._m.open_windows()

    @property
    def sensors(self):
        """The sensors sampled, e.g. "cpu-model cpu-model:all"."""
        return self._m.sensors

    @property
    def estimated_only(self):
        """True when every figure is estimated (only the CPU-time model could be opened)."""
        return self._m.estimated_only

    @property
    def problems(self):
        """What was tried and could not be used, with why."""
        return self._m.problems

    def __repr__(self):
        kind = "ESTIMATED" if self.estimated_only else "MEASURED"
        return f"<jouleperf.Monitor {self.sensors} ({kind})>"


class Window:
    """The handle `Monitor.window` yields: `measurement` is set when the block ends."""

    def __init__(self, name):
        self.name = name
        self.measurement = None

    def __repr__(self):
        return f"<Window {self.name!r}: {self.measurement!r}>"


_default = {"monitor": None}
_default_lock = threading.Lock()


def _default_monitor():
    """One Monitor (sensors="auto") shared by every bare @measure, made on first use."""
    with _default_lock:
        if _default["monitor"] is None:
            _default["monitor"] = Monitor()
        return _default["monitor"]


def measure(monitor=None, name=None):
    """Decorator: each call of the function is a window on `monitor` (one shared Monitor
    with sensors="auto" when None); the latest call's Measurement is
    `fn.last_measurement` (set also when the call raises). Calls may overlap (threads,
    recursion): each is its own window. On an `async def` the window spans the awaited
    call.

        @jouleperf.measure(mon)
        def step(): ...

    `@jouleperf.measure` without arguments works too.
    """
    if callable(monitor) and not isinstance(monitor, Monitor):  # used as @measure
        return measure()(monitor)

    def wrap(fn):
        window_name = name or fn.__qualname__

        def window():
            return (monitor or _default_monitor()).window(window_name)

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*args, **kwargs):
                w = None
                try:
                    with window() as w:
                        return await fn(*args, **kwargs)
                finally:  # after the window ended, also when fn raised
                    if w is not None:
                        async_wrapper.last_measurement = w.measurement

            async_wrapper.last_measurement = None
            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            w = None
            try:
                with window() as w:
                    return fn(*args, **kwargs)
            finally:  # after the window ended, also when fn raised
                if w is not None:
                    wrapper.last_measurement = w.measurement

        wrapper.last_measurement = None
        return wrapper

    return wrap
