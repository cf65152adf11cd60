"""The hardware profiles the simulator and the FLOPs-ideal baseline use (`jouleperf hardware`)."""

import builtins

from . import _jouleperf
from ._frames import Document


def list(files=()):  # noqa: A001 - the issue's name: jouleperf.hardware.list()
    """Every profile as a DataFrame: name, kind, bf16_dense_tflops, fp8_dense_tflops,
    memory_bandwidth_gbps (GB/s), memory_gib, tdp_w, idle_w, tp_link, max_tp, origin.
    `files`: JSON files of extra profiles (docs/simulator.md)."""
    return Document(_jouleperf.hardware_list_document(builtins.list(map(str, files)))).table("profiles")


def show(name, files=()):
    """One profile's figures with their units and sources (NotFoundError listing the names)."""
    return Document(_jouleperf.hardware_show_document(str(name), builtins.list(map(str, files))))
