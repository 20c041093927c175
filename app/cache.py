"""An asyncio cache of MNIST data blocks that prefetches, verifies and hands out batches.

Browser-agnostic: the fetch function is injected (`await fetch(url) -> bytes`), so the same
class runs in the Pyodide worker (over pyodide.http.pyfetch) and in CPython tests (over a
real local HTTP server). No browser imports here.

How it works. The blocks of one split are visited in a fresh seeded permutation each epoch;
`upcoming` is that visiting order, extended an epoch at a time. The *window* is the current
block plus the next distinct blocks, `cache_size` in all: the cache keeps those decoded in
memory, fetching at most `concurrency` at once, nearest first, and evicts blocks outside the
window only when it needs room (so a cache as large as the split stops fetching after one
epoch). Every fetched block is sha256-checked and decoded by models.blocks.decode_block
before it is stored, so a corrupt sample can never reach a batch. A failed attempt is counted
by kind and retried with exponential backoff; a block that fails `max_retries + 1` times is
dropped, reported, and skipped by the consumer. A consumer waiting for a block that is not yet
cached counts one stall. Offline, a block this device never fetched (the service worker says so:
FetchError kind "offline") is no failure: it is set aside at once as unavailable offline, and
the consumer trains on the blocks it has.
"""
import asyncio
import collections
import time

import numpy as np

from models.blocks import BlockError, block_url, decode_block, split_entries

CACHE_SIZE = 6          # blocks held in memory (500 samples each ≈ 0.4 MB)
CONCURRENCY = 3         # fetches in flight at once
BATCH_SIZE = 64
MAX_RETRIES = 3         # attempts after the first before a block is dropped
BACKOFF = 0.25          # seconds before the first retry; doubles each retry
BACKOFF_MAX = 4.0
FETCH_TIMEOUT = 30.0    # seconds for one attempt (a stalled response counts as a failure)
RECENT_ERRORS = 20      # how many failure messages stats() keeps


class FetchError(Exception):
    """An HTTP fetch that did not return the body; `kind` names the failure for the stats."""

    def __init__(self, message, *, status=None, kind=None):
        super().__init__(message)
        self.status = status
        self.kind = kind or (f"http_{status}" if status else "fetch")


OFFLINE = "offline"     # FetchError kind: not on this device, and no connection to fetch it


class CacheError(Exception):
    """The cache cannot produce batches: closed, or every block of the split was dropped."""


def failure_kind(error):
    """A short stable name for a failed attempt, used as a key in stats()['failures_by_kind']."""
    if isinstance(error, FetchError):
        return error.kind
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(error, BlockError):
        return "sha256" if "sha256" in str(error) else "corrupt"
    if isinstance(error, ConnectionError):
        return "connection"
    return type(error).__name__


class BlockCache:
    def __init__(self, manifest, fetch, *, base_url, split="train", cache_size=CACHE_SIZE,
                 concurrency=CONCURRENCY, batch_size=BATCH_SIZE, seed=0, max_retries=MAX_RETRIES,
                 backoff=BACKOFF, backoff_max=BACKOFF_MAX, fetch_timeout=FETCH_TIMEOUT,
                 on_event=None):
        """`base_url`: the manifest's URL (block files are resolved against it).
        `on_event(dict)`: optional; called on every failed attempt and every dropped block."""
        self._entries = {e["file"]: e for e in split_entries(manifest, split)}
        self._fetch = fetch
        self._base_url = base_url
        self.split = split
        self.max_retries, self.backoff, self.backoff_max = max_retries, backoff, backoff_max
        self.fetch_timeout = fetch_timeout
        self._on_event = on_event
        self._rng = np.random.default_rng(seed)
        self._blocks = {}                    # file -> (images uint8 (n, 784), labels uint8 (n,))
        self._inflight = {}                  # file -> asyncio.Task
        self._dropped = {}                   # file -> reason
        self._offline = set()                # files not on this device while offline
        self._upcoming = collections.deque()  # (file, epoch) in visiting order
        self._current = None                 # file being consumed
        self._order, self._position, self._epoch = np.empty(0, np.int64), 0, 0
        self._changed = asyncio.Event()
        self._consumer = asyncio.Lock()
        self._started = self._closed = False
        self._counters = collections.Counter()
        self._failures_by_kind = collections.Counter()
        self._recent_errors = collections.deque(maxlen=RECENT_ERRORS)
        self._stall_seconds = 0.0
        self._cache_size = self._concurrency = self._batch_size = 1
        self.cache_size, self.concurrency, self.batch_size = cache_size, concurrency, batch_size

    # -- settings that take effect at once -------------------------------------------------
    @property
    def cache_size(self):
        return self._cache_size

    @cache_size.setter
    def cache_size(self, value):
        if int(value) < 1:
            raise ValueError(f"cache_size must be at least 1 block, got {value}")
        self._cache_size = int(value)
        self._schedule()

    @property
    def concurrency(self):
        return self._concurrency

    @concurrency.setter
    def concurrency(self, value):
        if int(value) < 1:
            raise ValueError(f"concurrency must be at least 1, got {value}")
        self._concurrency = int(value)
        self._schedule()

    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        if int(value) < 1:
            raise ValueError(f"batch_size must be at least 1, got {value}")
        self._batch_size = int(value)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        """Begin prefetching (needs a running event loop). next_batch() also starts it."""
        self._schedule(started=True)

    def close(self):
        """Stop fetching; a consumer waiting in next_batch() gets CacheError."""
        self._closed = True
        for task in self._inflight.values():
            task.cancel()
        self._changed.set()

    async def aclose(self):
        tasks = list(self._inflight.values())
        self.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the consumer ------------------------------------------------------------------------
    async def next_batch(self, batch_size=None):
        """(x float32 (B, 784) in [0, 1], y int64 (B,)), shuffled, across block boundaries."""
        size = int(batch_size or self._batch_size)
        if size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        async with self._consumer:
            parts_x, parts_y, need = [], [], size
            while need:
                if self._current is None or self._position >= len(self._order):
                    await self._advance()
                images, labels = self._blocks[self._current]
                take = self._order[self._position:self._position + need]
                self._position += len(take)
                need -= len(take)
                parts_x.append(images[take])
                parts_y.append(labels[take])
            if len(parts_x) == 1:              # a run of one block's shuffled order: random already
                pixels, labels = parts_x[0], parts_y[0]
            else:                              # parts from two blocks must not sit in runs
                mix = self._rng.permutation(size)
                pixels, labels = np.concatenate(parts_x)[mix], np.concatenate(parts_y)[mix]
            x = np.multiply(pixels.reshape(size, -1), np.float32(1 / 255), dtype=np.float32)   # one pass
            y = labels.astype(np.int64)
            self._counters["batches_served"] += 1
            self._counters["samples_served"] += size
            return x, y

    async def _advance(self):
        """Make the next live block in visiting order current, waiting (a stall) if needed."""
        self._current = None
        while True:
            if self._closed:
                raise CacheError("cache is closed")
            if len(self._dropped) + len(self._offline) == len(self._entries):
                if not self._dropped:
                    raise CacheError(f"none of the '{self.split}' blocks is on this device, and there is no "
                                     f"connection: they are kept once fetched on a visit online")
                raise CacheError(f"every '{self.split}' block failed: "
                                 + "; ".join(f"{f}: {r}" for f, r in self._dropped.items()))
            self._extend_upcoming()
            name, epoch = self._upcoming.popleft()
            if name in self._dropped or name in self._offline:
                continue
            self._current = name
            self._schedule(started=True)
            waited_since = None
            while name not in self._blocks and name not in self._dropped and name not in self._offline \
                    and not self._closed:
                if waited_since is None:
                    waited_since = time.monotonic()
                    self._counters["stalls"] += 1
                self._changed.clear()
                self._schedule()
                await self._changed.wait()
            if waited_since is not None:
                self._stall_seconds += time.monotonic() - waited_since
            if name in self._blocks:
                self._epoch = epoch
                self._order = self._rng.permutation(len(self._blocks[name][1]))
                self._position = 0
                self._schedule()
                return
            self._current = None

    # -- prefetching -------------------------------------------------------------------------
    def _live(self):
        return [f for f in self._entries if f not in self._dropped and f not in self._offline]

    def _extend_upcoming(self):
        """Append epochs until the window can be filled (or every live block is in it)."""
        live = self._live()
        wanted = min(self._cache_size, len(live))
        while live and len({f for f, _ in self._upcoming if f in live}) < wanted \
                or not self._upcoming and live:
            epoch = (self._upcoming[-1][1] if self._upcoming else self._epoch) + 1
            self._upcoming.extend((live[i], epoch) for i in self._rng.permutation(len(live)))

    def _window(self):
        live = set(self._live())
        window = [self._current] if self._current in live else []
        for name, _ in self._upcoming:
            if len(window) >= self._cache_size:
                break
            if name not in window and name in live:
                window.append(name)
        return window

    def _schedule(self, started=False):
        """Start the fetches the window needs, within concurrency and cache_size."""
        self._started = self._started or started
        if not self._started or self._closed:
            return
        self._extend_upcoming()
        window = self._window()
        surplus = [f for f in self._blocks if f not in window]
        while surplus and len(self._blocks) + len(self._inflight) > self._cache_size:
            self._evict(surplus.pop(0))
        for name in window:
            if len(self._inflight) >= self._concurrency:
                break
            if name in self._blocks or name in self._inflight:
                continue
            if len(self._blocks) + len(self._inflight) >= self._cache_size:
                if not surplus:
                    break
                self._evict(surplus.pop(0))
            self._inflight[name] = asyncio.ensure_future(self._fetch_block(name))

    def _evict(self, name):
        del self._blocks[name]
        self._counters["evictions"] += 1

    async def _fetch_block(self, name):
        entry = self._entries[name]
        url = block_url(self._base_url, name)
        try:
            for attempt in range(self.max_retries + 1):
                try:
                    data = await asyncio.wait_for(self._fetch(url), self.fetch_timeout)
                    images, labels = decode_block(data, entry["sha256"])
                    if len(labels) != entry["count"]:
                        raise BlockError(f"holds {len(labels)} samples, manifest says {entry['count']}")
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # any fetch or decode failure: count, back off, retry
                    if failure_kind(error) == OFFLINE:   # no retry helps until the connection is back
                        self._offline.add(name)
                        self._report({"event": "offline", "file": name})
                        return
                    reason = self._record_failure(name, attempt, error)
                    if attempt < self.max_retries:
                        await asyncio.sleep(min(self.backoff * 2 ** attempt, self.backoff_max))
                    continue
                self._counters["bytes"] += len(data)
                self._counters["blocks_fetched"] += 1
                if self._current == name or name in self._window() \
                        or len(self._blocks) + len(self._inflight) <= self._cache_size:
                    self._blocks[name] = (images.reshape(len(images), -1), labels)
                return
            self._dropped[name] = reason
            self._report({"event": "dropped", "file": name, "reason": reason})
        finally:
            self._inflight.pop(name, None)
            self._changed.set()
            self._schedule()

    def _record_failure(self, name, attempt, error):
        kind = failure_kind(error)
        reason = f"{kind}: {error}" if str(error) else kind
        self._counters["failures"] += 1
        self._failures_by_kind[kind] += 1
        self._recent_errors.append(f"{name} attempt {attempt + 1}: {reason}")
        self._report({"event": "failure", "file": name, "attempt": attempt + 1, "kind": kind,
                      "reason": reason})
        return reason

    def _report(self, event):
        if self._on_event is not None:
            self._on_event(event)

    # -- state -------------------------------------------------------------------------------
    def stats(self):
        return {
            "split": self.split, "blocks_total": len(self._entries),
            "blocks_cached": len(self._blocks), "inflight": len(self._inflight),
            "cache_size": self._cache_size, "concurrency": self._concurrency,
            "batch_size": self._batch_size, "epoch": self._epoch,
            "stalls": self._counters["stalls"], "stall_seconds": round(self._stall_seconds, 4),
            "failures": self._counters["failures"], "failures_by_kind": dict(self._failures_by_kind),
            "dropped": len(self._dropped), "dropped_blocks": dict(self._dropped),
            "offline": len(self._offline),
            "bytes": self._counters["bytes"], "blocks_fetched": self._counters["blocks_fetched"],
            "evictions": self._counters["evictions"],
            "batches_served": self._counters["batches_served"],
            "samples_served": self._counters["samples_served"],
            "recent_errors": list(self._recent_errors),
        }
