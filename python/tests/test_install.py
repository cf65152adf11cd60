"""`pip install ./python` works offline: into a venv made from Debian's /usr/bin/python3
(with --system-site-packages, where numpy and pandas live), with no package index."""

import os
import subprocess
import sys

import pytest

ROOT = os.environ.get("JP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def test_pip_installs_the_package_offline_into_a_venv(tmp_path):
    build = os.environ.get("JOULEPERF_BUILD_DIR")
    if not build:
        pytest.skip("JOULEPERF_BUILD_DIR does not name the build (ctest sets it)")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", JOULEPERF_BUILD_DIR=build)
    r = subprocess.run([python, "-m", "pip", "install", "--no-index", os.path.join(ROOT, "python")],
                       capture_output=True, text=True, env=env, timeout=1200, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    check = ("import jouleperf, sys; m = jouleperf.Monitor(sensors='cpu-model');\n"
             "with m.window('w') as w: sum(range(10000))\n"
             "print(jouleperf.__file__); print(jouleperf.__version__); print(w.measurement.energy_source)")
    r = subprocess.run([python, "-c", check], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    where, version, source = r.stdout.split()
    assert where.startswith(str(venv)), where
    assert source == "cpu-time-model"
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        assert f"project(jouleperf VERSION {version} " in f.read()
