"""rnn_core.setup() limits numpy's OpenBLAS to one thread also where threadpoolctl is missing
(a kernel of a pre-built JupyterHub image): it then calls OpenBLAS's own setter."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# threadpoolctl made unimportable; the number of threads read back from OpenBLAS itself
SCRIPT = """
import sys
sys.modules["threadpoolctl"] = None
import ctypes
from pathlib import Path
import numpy
import rnn_core

maps = Path("/proc/self/maps").read_text().splitlines()
(path,) = {l.split()[-1] for l in maps if "openblas" in l.split()[-1].lower()}
lib = ctypes.CDLL(path)
get = next(getattr(lib, n) for n in ("scipy_openblas_get_num_threads64_",
           "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
           "openblas_get_num_threads") if hasattr(lib, n))
before = get()
report = rnn_core.setup(blas_threads=1)
print(before, get(), report.blas_threads, "limited directly" in repr(report))
"""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc (Linux)")
def test_setup_limits_openblas_without_threadpoolctl():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "2"  # as on a two-core machine, whatever this one has
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, text=True,
                         capture_output=True, check=True).stdout.split()
    assert out == ["2", "1", "1", "True"], out
