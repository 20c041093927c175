"""The bench server's byte tally: each response's bytes are kept with the moment its request
arrived, so a cold load's figure counts what the page fetched before it answered, not the
service worker's offline copy that follows (no browser)."""
import time
import urllib.request

from bench import browser


def fetch(server, path):
    with urllib.request.urlopen(server.url + path) as response:
        return len(response.read())


def test_bytes_are_split_at_a_moment_by_when_each_request_arrived(tmp_path):
    (tmp_path / "early.bin").write_bytes(b"e" * 50_000)
    (tmp_path / "late.bin").write_bytes(b"l" * 120_000)
    server = browser.start_server(tmp_path, {})
    try:
        browser.reset_tally(server)
        assert fetch(server, "early.bin") == 50_000
        time.sleep(0.05)
        moment = time.time()
        time.sleep(0.05)
        assert fetch(server, "late.bin") == 120_000
        early, total = browser.bytes_before(server, moment), server.bytes_sent
        assert 50_000 < early < 51_000                    # the body and its headers, nothing of the late one
        assert total - early > 120_000
        assert browser.bytes_before(server, time.time()) == total
        browser.reset_tally(server)
        assert server.bytes_sent == 0 and browser.bytes_before(server, time.time()) == 0
    finally:
        server.shutdown()
