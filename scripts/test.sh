#!/usr/bin/env bash
# Install what the tests need and run them: the package with its test and mpi
# extras at the versions of constraints.txt (what CI tested; the mpi extra brings
# mpi-sppy, mpi4py and MPICH's wheel, under whose mpiexec the ph engine's tests
# run), and Debian's chromium for the HTML report's browser test. The tests run
# in a shuffled order (pytest-randomly) so that no test leans on another's
# leftovers; the seed is fixed for CI and printed in pytest's header:
# WFOPT_TEST_SEED=N bash scripts/test.sh tries another order.
# Two worker processes (pytest-xdist; CI has 2 cores): the realistic instances'
# solves, minutes of HiGHS, run on one worker while the other takes the rest
# (tests/test_realistic.py holds every test that reads them, and --dist loadfile
# keeps a file on one worker);
# WFOPT_TEST_WORKERS=0 runs everything in one process.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser test will fail" >&2
  else
    echo "warning: chromium not found and cannot be installed here; the browser test will fail" >&2
  fi
fi
python -m pip install -q -c constraints.txt -e ".[test,mpi]"
python -m pytest -q -p randomly --randomly-seed="${WFOPT_TEST_SEED:-20261201}" \
  -n "${WFOPT_TEST_WORKERS:-2}" --dist loadfile "$@"
