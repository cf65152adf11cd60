"""`pip install ./python`: the package with its compiled extension, built offline.

The extension is built by the project's own build (`make python`: CMake, pybind11 and
jouleperf_core from Debian's packages; nothing is downloaded) for the interpreter running
pip, and copied into the wheel beside the pure-Python files. Without a pyproject.toml, pip
builds with the setuptools already installed (Debian's python3-setuptools) instead of
fetching one into an isolated environment, so no index is needed. docs/python.md.
"""

import glob
import os
import re
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        match = re.search(r"project\(jouleperf VERSION ([0-9.]+)", f.read())
    if not match:
        raise RuntimeError("no project version in CMakeLists.txt")
    return match.group(1)


def interpreter():
    """The interpreter the extension is for: the real file behind a venv's python; Debian's
    /usr/bin/python3 spelled as the Makefile spells it."""
    real = os.path.realpath(sys.executable)
    return "/usr/bin/python3" if real == os.path.realpath("/usr/bin/python3") else real


class BuildWithExtension(build_py):
    def run(self):
        super().run()
        python = interpreter()
        # Debian's Python builds in the project's build/ (make test's); another interpreter
        # in its own directory, so the main build keeps testing with Debian's.
        default = "build" if python == "/usr/bin/python3" else "build-" + os.path.basename(python)
        build = os.path.abspath(os.environ.get("JOULEPERF_BUILD_DIR", os.path.join(ROOT, default)))
        subprocess.check_call(["make", "-C", ROOT, "python", f"BUILD={build}", f"PYTHON={python}"])
        built = glob.glob(os.path.join(build, "python", "jouleperf", "_jouleperf*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one _jouleperf extension under {build}/python/jouleperf, found {built}")
        target = os.path.join(self.build_lib, "jouleperf")
        os.makedirs(target, exist_ok=True)
        shutil.copy2(built[0], target)


class BinaryDistribution(Distribution):
    """A wheel for this platform and interpreter (it holds a compiled extension)."""

    def has_ext_modules(self):
        return True


setup(
    name="jouleperf",
    version=project_version(),
    description="Measure, model and reduce the energy of LLM inference (Python package over jouleperf_core)",
    packages=["jouleperf"],
    package_data={"jouleperf": ["*.pyi", "py.typed"]},
    python_requires=">=3.9",
    cmdclass={"build_py": BuildWithExtension},
    distclass=BinaryDistribution,
    zip_safe=False,
)
