"""The ``imgcorrupt`` command installed by the wheel: the Rust command line itself
(``imgcorrupt::cli``), so ``pip install`` alone gives the CLI."""

import signal
import sys

from . import _imgcorrupt as _core


def main(argv=None):
    """Run ``imgcorrupt ARGS...`` and exit with its code."""
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "imgcorrupt"
    # Ctrl-C stops the command as it stops the native binary (Python's handler would only run
    # after the Rust call returns).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):  # `imgcorrupt list | head` ends quietly, as Unix tools do
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(_core.run_cli(argv))


if __name__ == "__main__":
    main()
