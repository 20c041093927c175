"""A real S3 API server (moto's server mode) on 127.0.0.1, for deploy tests."""
import socket
import urllib.request

from moto.s3.models import FakeBucket
from moto.server import ThreadedMotoServer


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _head_is_authorised_as_get(get_permission):
    """AWS authorises HeadObject by s3:GetObject; moto asks the policy for a non-existent
    s3:HeadObject, so an anonymous HEAD (the page checks its worker script so) got a 403."""
    def permission(bucket, action, resource):
        return get_permission(bucket, "s3:GetObject" if action == "s3:HeadObject" else action, resource)
    return permission


class S3Server:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def __enter__(self):
        self.real_get_permission = FakeBucket.get_permission
        FakeBucket.get_permission = _head_is_authorised_as_get(self.real_get_permission)
        self.server.start()
        # moto keeps its buckets in-process, not per server: a module whose fixtures pytest set
        # up twice (its tests reordered around the engine groups) found the first server's objects.
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")).close()
        return self

    def __exit__(self, *exc):
        self.server.stop()
        FakeBucket.get_permission = self.real_get_permission
