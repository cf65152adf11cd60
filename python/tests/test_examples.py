"""The examples in examples/python run and print labelled figures (docs/python.md)."""

import os
import subprocess
import sys

import pytest

import jouleperf

EXAMPLES = os.path.join(os.environ.get("JP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                        "examples", "python")


def run_example(name, *args):
    env = dict(os.environ)  # the example imports the package these tests import
    package_root = os.path.dirname(os.path.dirname(jouleperf.__file__))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *map(str, args)], capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_the_matmul_example_prints_a_labelled_energy():
    out = run_example("matmul_cpu_model.py", 128, 5)
    assert "J per GFLOP" in out
    assert ("ESTIMATED" in out) or ("MEASURED" in out)


def test_the_prefill_and_decode_example_measures_each_phase():
    out = run_example("prefill_decode.py", 32, 4, 64)
    lines = out.splitlines()
    assert lines[0].startswith("prefill: 32 tokens") and lines[1].startswith("decode: 4 tokens")
    assert all("mJ per token" in line for line in lines[:2])


def test_the_tiny_decoder_decodes_as_it_prefills():
    """The stand-in is a real model: decoding token by token against the cache gives the
    logits a full forward pass over the same tokens gives."""
    np = pytest.importorskip("numpy")
    sys.path.insert(0, EXAMPLES)
    try:
        from prefill_decode import TinyDecoder
    finally:
        sys.path.pop(0)
    model = TinyDecoder(vocab=50, d=32, layers=2)
    tokens = np.array([3, 14, 15, 9, 26])
    full = model.forward(tokens, [{"k": None, "v": None} for _ in model.layers])
    cache = [{"k": None, "v": None} for _ in model.layers]
    model.forward(tokens[:2], cache)
    for t in tokens[2:]:
        stepped = model.forward(np.array([t]), cache)
    assert np.allclose(full, stepped, atol=1e-4)
