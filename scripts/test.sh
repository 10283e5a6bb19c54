#!/usr/bin/env bash
# Every test of the project: the Rust crate (`cargo test --release`), then the Python package:
# a wheel built from this checkout (maturin from PyPI in target/py-build), installed with NumPy
# and pytest into a fresh venv (target/py-test) and tested with python/tests, once with the
# newest NumPy and once with NumPy 1.x. README.md's test command and .ci/run call this script.
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

run_pytest() { # $1: venv dir, $2: numpy requirement
  rm -rf "$1"
  "$python" -m venv "$1"
  "$1/bin/pip" install --quiet --disable-pip-version-check "$wheel" "$2" pytest
  # From the repository root, so that `import imgcorrupt` is the installed wheel, not
  # python/imgcorrupt; pytest's exit code 5 (no tests collected) fails this script too.
  IMGCORRUPT_TEST_INSTALLED=1 "$1/bin/python" -m pytest -q -p no:cacheprovider python/tests
}
run_pytest target/py-test "numpy>=2"
# NumPy 1.x has no wheels for CPython >= 3.13.
if "$python" -c 'import sys; sys.exit(sys.version_info >= (3, 13))'; then
  run_pytest target/py-test-numpy1 "numpy>=1.23,<2"
else
  echo "NumPy 1.x round skipped: no NumPy 1.x wheels for $("$python" --version)"
fi
