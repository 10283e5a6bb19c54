#!/usr/bin/env bash
# Every test of the project: the Rust crate (`cargo test --release`), then the Python package:
# a wheel built from this checkout (maturin from PyPI in target/py-build), installed with NumPy
# and pytest into a fresh venv (target/py-test) and tested with python/tests, once with the
# newest NumPy and once with NumPy 1.x (next to the real imagecorruptions 1.1.2 where it
# installs). README.md's test command and .ci/run call this script.
# Needs a Rust toolchain and python3 (>= 3.9) with venv and network access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

cargo test --release

build=target/py-build
if [ ! -x "$build/bin/maturin" ]; then
  "$python" -m venv "$build"
  "$build/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9.4,<2"
fi
rm -f target/wheels/imgcorrupt-*.whl
"$build/bin/maturin" build --release --quiet -m python/Cargo.toml -o target/wheels
wheel=$(ls target/wheels/imgcorrupt-*.whl)

run_pytest() { # $1: venv dir, then the requirements besides the wheel and pytest
  local venv=$1
  shift
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel" pytest "$@"
  # From the repository root, so that `import imgcorrupt` is the installed wheel, not
  # python/imgcorrupt; pytest's exit code 5 (no tests collected) fails this script too.
  IMGCORRUPT_TEST_INSTALLED=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
}
run_pytest target/py-test "numpy>=2"
# Second round with NumPy 1.x. On CPython 3.11 it is the pinned environment of the reference
# (imagecorruptions 1.1.2 with NumPy 1.26.4, scripts/requirements-reference.txt, made for
# 3.11), so python/tests/test_live_reference.py also compares with the real package side by
# side; other versions get plain NumPy 1.x (none for >= 3.13: NumPy 1.x has no wheels there).
minor=$("$python" -c 'import sys; print(sys.version_info[1])')
if [ "$minor" -eq 11 ]; then
  run_pytest target/py-test-reference -r scripts/requirements-reference.txt
elif [ "$minor" -le 12 ]; then
  run_pytest target/py-test-numpy1 "numpy>=1.23,<2"
else
  echo "NumPy 1.x round skipped: no NumPy 1.x wheels for $("$python" --version)"
fi
