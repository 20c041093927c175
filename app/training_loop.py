"""A training loop that runs one step at a time as an asyncio task and can be paused or stopped.

Shared by the digits and text sessions. It yields to the event loop between steps, so the
page's pause, reset and slider messages are handled (a worker that never yields would queue
them until the loop ended), but on a clock, not after every step. A yield is a round trip
through the browser's task queue: once per step it cost about 0.2 ms in Chromium and 4 ms in
WebKit's workers (`make bench`, the app's batch-1 training: 672 -> 792 and 134 -> 297
samples/s once it went). WebKit's is a clamped setTimeout (Pyodide schedules with it in
Safari's workers), so the stretch between yields follows what a yield costs: YIELD_S where a
yield is cheap, up to YIELD_MAX_S where it is not, so yields take at most YIELD_SHARE. It calls
periodic duties on a clock too, so reports stay a few per second however fast the steps are. A stop rule (see
app/stop_rules.py) can end a run by itself: the loop feeds it training time and epochs and asks
it after every step.
"""
import asyncio
import collections
import inspect
import time

from app.stop_rules import StopRule
from app.wording import sentence

YIELD_S = 0.01        # shortest stretch of steps between two yields
YIELD_MAX_S = 0.08    # longest: a message from the page waits at most this (and one step)
YIELD_SHARE = 0.05    # of the loop's time that yields may take, when a yield is slow
YIELD_COSTS = 8       # recent yields whose cheapest is the cost of a yield (the rest ran others' tasks)


def yield_stretch(costs):
    """Seconds of stepping before the next yield, from the recent yields' costs in seconds."""
    if not costs:
        return YIELD_S
    return min(YIELD_MAX_S, max(YIELD_S, min(costs) / YIELD_SHARE))


class TrainingLoop:
    # method name -> seconds between calls while running; subclasses fill it in
    PERIODIC = {}

    def __init__(self, report):
        self.report = report        # report(kind, payload): "status", "weights" or "error"
        self.state = "idle"         # idle | running | paused | stopped (by the rule) | failed
        self.task = None
        self.rule = StopRule()

    # subclasses provide these --------------------------------------------------------------
    async def prepare(self):
        """Anything to fetch before the first step."""

    async def step(self):
        raise NotImplementedError

    async def on_pause(self):
        """Duties when the loop stops for a pause (final report, weights)."""

    async def on_rule_stop(self, reason):
        """Duties when the stop rule ends the run; by default those of a pause."""
        await self.on_pause()

    def epochs_done(self):
        """Passes over the training data so far (a float), or None if the session cannot tell."""
        return None

    def status(self):
        raise NotImplementedError

    def failure_message(self, error):
        return sentence(f"Training stopped: {error}")

    # controls -----------------------------------------------------------------------------
    def running(self):
        return self.task is not None and not self.task.done()

    def start(self):
        if self.running() or self.state == "failed":
            return
        if self.state == "stopped":
            self.rule.restart()     # Start after the rule ended a run: a new budget of the same rule
        self.state = "running"
        self.task = asyncio.ensure_future(self.run())

    async def pause(self):
        if not self.running():
            return
        self.state = "paused"
        await self.task
        await self.on_pause()

    async def stop(self):
        """Cancel at once, mid-step if need be (for Reset)."""
        if self.running():
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        self.task = None
        self.state = "idle"

    def set_rule(self, kind, value):
        """A new stop rule with a fresh budget (StopRuleError for one it cannot run)."""
        self.rule = StopRule(kind, value)
        self.rule.tick(0.0, self.epochs_done())

    async def run(self):
        last = dict.fromkeys(self.PERIODIC, time.monotonic())
        yielded, costs = time.monotonic(), collections.deque(maxlen=YIELD_COSTS)
        stretch = yield_stretch(costs)      # renewed at each yield, not at each step
        try:
            await self.prepare()
            clock = time.monotonic()        # only time in here counts against a time budget
            self.rule.tick(0.0, self.epochs_done())
            while self.state == "running":
                await self.step()
                now = time.monotonic()
                self.rule.tick(now - clock, self.epochs_done())
                clock = now
                for duty, period in self.PERIODIC.items():
                    if now - last[duty] >= period:
                        last[duty] = now
                        result = getattr(self, duty)()
                        if inspect.isawaitable(result):
                            await result
                reason = self.rule.due()
                if reason and self.state == "running":
                    self.rule.stopped, self.state = reason, "stopped"
                    await self.on_rule_stop(reason)
                    return
                if now - yielded >= stretch:
                    await asyncio.sleep(0)
                    yielded = time.monotonic()
                    costs.append(yielded - now)
                    stretch = yield_stretch(costs)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.state = "failed"
            self.report("error", self.failure_message(error))
            self.send_status()

    def send_status(self):
        self.report("status", self.status())
