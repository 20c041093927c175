"""How fast the block cache streams from a local HTTP server (numbers for reports, not tests).

    .venv/bin/python -m tests.support.bench_cache [--epochs 5] [--batch 128]
"""
import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from app.cache import BlockCache
from models import blocks
from tests.support.data import build_embedded
from tests.support.fault_server import FaultServer
from tests.support.http_fetch import http_get


async def stream(url, epochs, batch, cache_size, concurrency, pace=None):
    """Consume `epochs` as fast as possible, or at `pace` samples/s like a training loop."""
    manifest = blocks.read_manifest(url)
    cache = BlockCache(manifest, http_get, base_url=url, cache_size=cache_size,
                       concurrency=concurrency, batch_size=batch)
    samples = epochs * manifest["splits"]["train"]["count"]
    started = time.perf_counter()
    for _ in range(samples // batch):
        await cache.next_batch()
        if pace:
            await asyncio.sleep(batch / pace)
    elapsed = time.perf_counter() - started
    stats = cache.stats()
    await cache.aclose()
    return elapsed, stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = build_embedded(Path(tmp) / "mnist")
        with FaultServer(data_dir) as server:
            for cache_size, concurrency in [(4, 1), (4, 3), (8, 4)]:
                elapsed, s = asyncio.run(stream(server.url + "manifest.json", args.epochs, args.batch,
                                                cache_size, concurrency))
                print(f"cache {cache_size} K {concurrency} batch {args.batch}: "
                      f"{s['blocks_fetched'] / elapsed:.0f} blocks/s, {s['bytes'] / elapsed / 1e6:.1f} MB/s, "
                      f"{s['samples_served'] / elapsed:.0f} samples/s, stalls {s['stalls']} "
                      f"({s['stall_seconds']:.3f} s), {s['blocks_fetched']} blocks in {elapsed:.2f} s")
            elapsed, s = asyncio.run(stream(server.url + "manifest.json", 2, args.batch, 4, 2, 4000))
            print(f"paced at 4000 samples/s, cache 4 K 2: stalls {s['stalls']} (the cold start), "
                  f"{s['samples_served'] / elapsed:.0f} samples/s")


if __name__ == "__main__":
    main()
