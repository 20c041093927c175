"""The trainer worker, started, watched, and replaced when it dies or stops answering.

A worker can die (the browser kills it, a crash in the wasm runtime) or hang (a step that never
ends; a page's pause message then waits forever). The page pings it every HEARTBEAT_S; a ping
unanswered for HUNG_AFTER_S counts as hung. Then the page says so, ends that worker, starts a
fresh one and hands each view its last checkpoint, while drawing, predicting, playing and
writing go on in the page's thread as before.

HUNG_AFTER_S is long because a worker answers pings only between steps: the longest honest
stretch without a yield is the CNN's held-out scoring, 3-6 s in Pyodide and several times that
on a loaded 2-core machine.
"""
import asyncio
import json

from pyscript import create_named_worker, document, window
from pyscript.ffi import create_proxy

from app.errors import show_error

WORKER_SCRIPT = "./app/trainer.py"
WORKER_START_S = 180   # a worker's Pyodide + numpy boot; WebKit on a busy 2-core machine takes ~30 s
HEARTBEAT_S = 2.0
HUNG_AFTER_S = 20.0


class WorkerFailed(Exception):
    """The trainer could not be started; str(e) says why."""


class Watchdog:
    def __init__(self, views):
        self.views = views         # each has connect(trainer, inbox) and worker_lost()
        self.trainer = None
        self.script = None         # the worker's <script> element
        self.starts = 0

    async def start(self):
        """Start a worker and connect the views to it; WorkerFailed if it cannot start."""
        self.starts += 1
        name = "trainer" if self.starts == 1 else f"trainer-{self.starts}"   # names are taken for good
        try:
            trainer = await asyncio.wait_for(
                create_named_worker(WORKER_SCRIPT, name, config="./pyscript.toml"), WORKER_START_S)
            reply = json.loads(await asyncio.wait_for(trainer.ping(), WORKER_START_S))
        except Exception as error:
            raise WorkerFailed("it did not answer in time" if isinstance(error, asyncio.TimeoutError)
                               else str(error)) from None
        self.trainer = trainer
        self.script = document.querySelector(f'script[worker][name="{name}"]')
        body = document.body
        body.dataset.worker = "ready" if reply["numpy"] else "no-numpy"
        body.dataset.workerNumpy = reply["numpy"] or ""
        body.dataset.workerStarts = str(self.starts)
        # Functions set on the worker script's xworker.sync are the ones the worker can call back.
        inbox = self.script.xworker.sync
        # Test hook (tests/test_app_watchdog.py): hang this worker as a step that never ends would.
        window.falkenHangTrainer = create_proxy(lambda: trainer.hang())
        return trainer, inbox

    async def watch(self, connect):
        """Ping for ever; replace a worker that stops answering. connect(trainer, inbox) hands
        the views a (new) worker. Ends only if a new worker cannot be started."""
        while document.body.dataset.worker != "failed":
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await asyncio.wait_for(self.trainer.ping(), HUNG_AFTER_S)
                continue
            except asyncio.TimeoutError:
                why = f"stopped answering for {HUNG_AFTER_S:.0f} seconds"
            except Exception as error:        # the worker reported its own death
                why = f"failed ({error})"
            await self.replace(why, connect)

    async def replace(self, why, connect):
        body = document.body
        body.dataset.worker = "restarting"
        for view in self.views:
            view.worker_lost()
        try:
            self.script.xworker.terminate()   # a hung worker would keep a core busy for ever
        except Exception:
            pass                              # already gone
        self.script.remove()
        try:
            trainer, inbox = await self.start()
        except WorkerFailed as error:
            body.dataset.worker = "failed"
            show_error(f"The trainer {why} and could not be started again ({error}), so training is "
                       "unavailable. Drawing, prediction, the game and writing still work.")
            return
        await connect(trainer, inbox)
        show_error(f"The trainer {why}, so Falken started a new one and restored your training "
                   "from its last checkpoint.")
