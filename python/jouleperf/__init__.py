"""jouleperf in Python: measure the energy of windows of a program, read studies into pandas.

    import jouleperf
    mon = jouleperf.Monitor()                      # every readable sensor, else the CPU-time model
    with mon.window("prefill") as w:
        ...
    w.measurement                                  # energy_j, duration_s, power_w, uncertainty_j,
                                                   # energy_source, estimated, domains, ...
    store = jouleperf.open_store("out/demo/results.db")
    store.cells                                    # a DataFrame, as `jouleperf report -o csv`
    jouleperf.estimate(store, workload="azure-conv-2023").to_frame()

Every energy says where it came from (energy_source: counter, power-integral,
cpu-time-model) and whether it is estimated; simulated results say they are simulated.
Errors are jouleperf.Error and its subclasses, carrying the library's message.
docs/python.md has the whole guide.
"""

from . import hardware  # noqa: F401
from ._jouleperf import (Error, InvalidArgumentError, NotFoundError, ParseError,  # noqa: F401
                         PermissionDeniedError, UnsupportedError)
from ._jouleperf import __version__  # noqa: F401
from ._frames import Document  # noqa: F401
from ._monitor import Measurement, Monitor, Window, measure  # noqa: F401
from ._pipelines import Simulation, load_trace, simulate  # noqa: F401
from ._store import Estimate, Store, estimate, open_store  # noqa: F401

__all__ = ["Monitor", "Measurement", "Window", "measure", "Store", "open_store", "Estimate", "estimate",
           "load_trace", "simulate", "Simulation", "Document", "hardware", "Error", "NotFoundError",
           "PermissionDeniedError", "UnsupportedError", "InvalidArgumentError", "ParseError", "__version__"]
