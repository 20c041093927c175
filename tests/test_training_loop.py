"""The training loop's yields: often where a yield is cheap, stretched where it is slow, never so
long that a message from the page waits more than YIELD_MAX_S."""
import asyncio
import time

import pytest

from app.training_loop import YIELD_MAX_S, YIELD_S, YIELD_SHARE, TrainingLoop, yield_stretch

pytestmark = pytest.mark.timeout(30)     # a loop that never yields hangs the second test


def test_the_stretch_follows_the_cheapest_recent_yield_within_its_bounds():
    assert yield_stretch([]) == YIELD_S                         # before the first yield
    assert yield_stretch([0.0002] * 8) == YIELD_S               # Chromium's postTask
    assert yield_stretch([0.002] * 8) == 0.002 / YIELD_SHARE    # between the bounds
    assert yield_stretch([0.0045] * 8) == YIELD_MAX_S           # WebKit's clamped setTimeout
    assert yield_stretch([0.0002, 0.030, 0.0002]) == YIELD_S    # a yield that ran others' tasks


class Counting(TrainingLoop):
    def __init__(self):
        super().__init__(lambda kind, payload: None)
        self.steps = 0

    async def step(self):
        time.sleep(0.001)
        self.steps += 1

    def status(self):
        return {"steps": self.steps}


def test_a_message_waits_at_most_one_stretch_while_the_loop_runs():
    async def run():
        loop = Counting()
        loop.start()
        waits = []
        for _ in range(20):
            asked = time.monotonic()
            await asyncio.sleep(0)          # a message from the page: handled at the loop's next yield
            waits.append(time.monotonic() - asked)
        await loop.pause()
        return loop, waits
    loop, waits = asyncio.run(run())
    assert loop.steps > 20 and loop.state == "paused"
    assert max(waits) < YIELD_MAX_S + 0.05, waits
