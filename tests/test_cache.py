"""BlockCache against a real local HTTP server, no faults: batches, epochs, settings, state."""
import ast
import asyncio
import collections
from pathlib import Path

import numpy as np
import pytest

from app.cache import BlockCache, CacheError
from models import blocks
from tests.support.data import batch_keys, build_embedded, train_keys
from tests.support.fault_server import FaultServer
from tests.support.http_fetch import http_get

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return build_embedded(tmp_path_factory.mktemp("cache") / "mnist")


@pytest.fixture
def server(data_dir):
    with FaultServer(data_dir) as server:
        yield server


def make_cache(server, fetch=http_get, **options):
    url = server.url + "manifest.json"
    return BlockCache(blocks.read_manifest(url), fetch, base_url=url, **options)


async def settle(cache):
    """Wait until no fetch is in flight (the window is full); pytest-timeout bounds it."""
    while cache.stats()["inflight"]:
        await asyncio.sleep(0.01)


def test_manifest_is_read_over_http_with_urllib(server, data_dir):
    assert blocks.read_manifest(server.url + "manifest.json") == \
        blocks.read_manifest(data_dir / "manifest.json")


def test_one_epoch_serves_every_training_sample_exactly_once(server, data_dir):
    async def run():
        cache = make_cache(server, cache_size=4, concurrency=2, batch_size=100, seed=1)
        got = []
        for _ in range(80):  # 80 x 100 = the 8000 training samples
            x, y = await cache.next_batch()
            assert x.shape == (100, 784) and x.dtype == np.float32 and y.shape == (100,)
            assert 0 <= x.min() and x.max() <= 1 and y.dtype == np.int64
            got += batch_keys(x)
        stats = cache.stats()
        await cache.aclose()
        return got, stats
    got, stats = asyncio.run(run())
    assert collections.Counter(got) == collections.Counter(train_keys(data_dir))
    assert stats["blocks_fetched"] >= 16 and stats["failures"] == 0 and stats["stalls"] >= 1
    assert stats["samples_served"] == 8000 and stats["epoch"] == 1


def test_labels_travel_with_their_images(server, data_dir):
    images, labels = blocks.load_split(data_dir, "train")
    label_of = dict(zip(train_keys(data_dir), labels.tolist()))

    async def run():
        cache = make_cache(server, seed=3)
        x, y = await cache.next_batch(700)  # spans two 500-sample blocks
        await cache.aclose()
        return x, y
    x, y = asyncio.run(run())
    assert [label_of[k] for k in batch_keys(x)] == y.tolist()


@pytest.mark.parametrize("sizes", [[1, 37, 499, 500, 501, 1000, 1337], [3000]])
def test_batches_of_any_size_cross_block_boundaries(server, sizes):
    async def run():
        cache = make_cache(server, cache_size=3, concurrency=3)
        shapes = [(await cache.next_batch(size))[0].shape for size in sizes]
        await cache.aclose()
        return shapes
    assert asyncio.run(run()) == [(size, 784) for size in sizes]


def test_a_cache_as_large_as_the_split_stops_fetching_after_one_epoch(server):
    async def run():
        cache = make_cache(server, cache_size=16, concurrency=4, batch_size=250)
        for _ in range(32 * 3):  # three epochs
            await cache.next_batch()
        stats = cache.stats()
        await cache.aclose()
        return stats
    stats = asyncio.run(run())
    assert stats["blocks_fetched"] == 16 and stats["evictions"] == 0 and stats["epoch"] == 3
    assert sum(server.plan.requests.values()) == 16 + 1  # blocks + manifest


def test_cache_size_and_batch_size_take_effect_immediately(server):
    async def run():
        cache = make_cache(server, cache_size=8, concurrency=4, batch_size=32)
        assert (await cache.next_batch())[0].shape == (32, 784)
        await settle(cache)
        assert cache.stats()["blocks_cached"] == 8
        cache.cache_size = 2
        assert cache.stats()["blocks_cached"] <= 2  # evicted at once, not at the next fetch
        cache.batch_size = 77
        assert (await cache.next_batch())[0].shape == (77, 784)
        cache.cache_size = 12
        await settle(cache)
        grown = cache.stats()
        await cache.aclose()
        return grown
    grown = asyncio.run(run())
    assert grown["blocks_cached"] == 12 and grown["cache_size"] == 12 and grown["batch_size"] == 77


def test_fetches_never_exceed_concurrency_nor_the_cache(server):
    live = {"now": 0, "max": 0}
    over_capacity = []

    async def counting_fetch(url):
        live["now"] += 1
        live["max"] = max(live["max"], live["now"])
        try:
            return await http_get(url)
        finally:
            live["now"] -= 1

    async def run():
        cache = make_cache(server, counting_fetch, cache_size=5, concurrency=2, batch_size=128)
        for _ in range(150):
            await cache.next_batch()
            stats = cache.stats()
            if stats["blocks_cached"] + stats["inflight"] > 5:
                over_capacity.append(stats)
        await cache.aclose()
    asyncio.run(run())
    assert live["max"] == 2 and not over_capacity


def test_same_seed_same_batches(server):
    async def run(seed):
        cache = make_cache(server, seed=seed, cache_size=3)
        ys = [(await cache.next_batch(300))[1] for _ in range(20)]
        await cache.aclose()
        return np.concatenate(ys)
    assert np.array_equal(asyncio.run(run(5)), asyncio.run(run(5)))
    assert not np.array_equal(asyncio.run(run(5)), asyncio.run(run(6)))


def test_close_releases_a_waiting_consumer(server):
    async def never(url):
        await asyncio.Event().wait()

    async def run():
        cache = make_cache(server, never)
        consumer = asyncio.ensure_future(cache.next_batch())
        await asyncio.sleep(0.05)
        assert cache.stats()["inflight"] > 0 and cache.stats()["stalls"] == 1
        cache.close()
        with pytest.raises(CacheError, match="closed"):
            await consumer
    asyncio.run(run())


def test_bad_settings_are_refused(server):
    cache = make_cache(server)
    for name in ("cache_size", "batch_size", "concurrency"):
        with pytest.raises(ValueError, match=name):
            setattr(cache, name, 0)
    with pytest.raises(blocks.BlockError, match="no 'valid' blocks"):
        make_cache(server, split="valid")


def test_the_cache_module_imports_nothing_from_the_browser():
    tree = ast.parse((ROOT / "app" / "cache.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"asyncio", "collections", "time", "numpy", "models"}, imported
