"""The `make run` server as a person starts it in a terminal, for the tests that Ctrl-C it."""
import signal
import subprocess
import sys

from tests.conftest import ROOT


def start_server(stderr=subprocess.PIPE):
    """`python -m tools.serve --port 0`; its first line of stdout gives the URL.

    Ctrl-C (SIGINT) is given back its default: a shell that ran `make test` in the background
    left it ignored, the server inherits that, and it would never stop. -X faulthandler lets a
    test that finds it hung make it print where each thread is (SIGABRT)."""
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "tools.serve", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
