"""The page's entry point: boot Python, check numpy, reach the trainer worker, start the three views."""
import asyncio
import json

from pyscript import create_named_worker, document, fetch, window

from app.address import Address
from app.dom import listen
from app.errors import show_error
from app.hash_settings import view_name
from app.runtime import import_numpy
from app.wording import sentence

body = document.body
WORKER_SCRIPT = "./app/trainer.py"
WORKER_START_S = 180   # a worker's Pyodide + numpy boot; WebKit on a busy 2-core machine takes ~30 s


async def boot():
    if await import_numpy() is None:
        body.dataset.ready = "error"
        return
    from app.digits_view import DigitsView
    from app.text_view import TextView
    from app.tictactoe_view import TicTacToeView

    address = Address()
    address.take(window.location.hash)      # a link's settings, before the views read their controls
    # A view's model is fetched when the view is first shown, so a first visit downloads only
    # what it displays. The page is ready once the view in the address is.
    views = {"tictactoe": TicTacToeView(), "digits": DigitsView(), "text": TextView()}
    booted = {}
    address.watch()

    async def boot_view(name):
        await start_view(views[name].boot, views[name])
        document.getElementById(name).dataset.ready = "true"

    def show(name):
        name = name if name in views else "tictactoe"
        if name not in booted:
            booted[name] = asyncio.ensure_future(boot_view(name))
        return booted[name]

    def on_hash(event):
        show(view_name(window.location.hash))
        address.take(window.location.hash, notify=True)

    listen(window, "hashchange", on_hash, "Opening that view")
    await show(view_name(window.location.hash))
    body.dataset.ready = "true"

    # The worker starts only now, so its own Pyodide does not compete with the page's for the CPU
    # while the page loads.
    try:
        # A missing worker script would only show as a worker that never answers: ask first
        # (GET, not HEAD: S3 refuses an anonymous HEAD the bucket policy allows as GET).
        script = await fetch(WORKER_SCRIPT)
        if not script.ok:
            raise RuntimeError(f"{WORKER_SCRIPT.lstrip('./')} could not be loaded: the server answered HTTP {script.status}")
        trainer = await asyncio.wait_for(
            create_named_worker(WORKER_SCRIPT, "trainer", config="./pyscript.toml"), WORKER_START_S)
        reply = json.loads(await asyncio.wait_for(trainer.ping(), WORKER_START_S))
    except Exception as error:
        body.dataset.worker = "failed"
        why = "it did not answer in time" if isinstance(error, asyncio.TimeoutError) else str(error)
        show_error(f"The trainer could not start ({why}), so training is unavailable. The game, drawing "
                   "and prediction, and writing with the shipped models still work.")
        return
    body.dataset.worker = "ready" if reply["numpy"] else "no-numpy"
    body.dataset.workerNumpy = reply["numpy"] or ""
    # Functions set on the worker script's xworker.sync are the ones the worker can call back.
    inbox = document.querySelector('script[worker][name="trainer"]').xworker.sync
    for view in (views["digits"], views["text"]):
        await start_view(lambda: view.connect(trainer, inbox), view)


async def start_view(step, view):
    """Run one view's start-up step; a failure there is reported and the other views go on."""
    try:
        await step()
    except Exception as error:
        show_error(sentence(f"{type(view).__name__.removesuffix('View')} could not start: {error}")
                   + " The other views still work.")


try:
    await boot()  # noqa: F704 -- PyScript runs this module with top-level await
except Exception as error:
    body.dataset.ready = "error"
    show_error(sentence(f"Falken could not start: {error}"))
finally:
    document.getElementById("boot-status").textContent = ""
