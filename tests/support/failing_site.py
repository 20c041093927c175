"""The real site served locally, except that chosen paths fail: a flaky S3 or a missing file."""
import contextlib

from tests.conftest import ROOT
from tools import serve


@contextlib.contextmanager
def site_failing(fails, status=404):
    """Serve the repo; a request whose path `fails(path)` accepts gets HTTP `status` instead."""

    class FailingHandler(serve.SiteHandler):
        def send_head(self):
            if fails(self.path):
                self.send_error(status)
                return None
            return super().send_head()

    server = serve.start_in_thread(ROOT, handler=FailingHandler)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
