#!/usr/bin/env bash
# Install the newest release of every dependency (no constraints file) into a
# fresh virtual environment and run the test suite there, so a release that
# moves under us is seen before a new user meets it. Run it before raising a pin
# in constraints.txt and quote its summary line. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q --upgrade --upgrade-strategy eager -e ".[test,mpi]"
echo "newest releases installed:" >&2
"$py" -m pip list --format=freeze 2>/dev/null \
  | grep -iE '^(highspy|pyomo|mpi-sppy|mpi4py|mpich|numpy|scipy|pandas|pydantic|typer|rich|pyyaml|matplotlib|dask|distributed|psutil|pytest|pytest-randomly|pytest-xdist|hypothesis)==' >&2
"$py" -m pytest -q -p randomly --randomly-seed="${WFOPT_TEST_SEED:-20261201}" \
  -n "${WFOPT_TEST_WORKERS:-2}" --dist loadfile "$@"
