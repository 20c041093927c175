"""The page's entry point: boot Python, check numpy, reach the trainer worker, start the three views."""
import asyncio
import importlib

from pyscript import document, fetch, window

from app.address import Address
from app.dom import listen
from app.errors import show_error
from app.hash_settings import view_name
from app.runtime import import_numpy
from app.wording import sentence

body = document.body
OFFLINE_WAIT_S = 60    # at most, for a first visit's service worker to take over before the worker starts
watching = []
VIEWS = ("tictactoe", "digits", "text")
# What app.digits_view imports that the other views have not, leaves first (app/main.py imports
# them one by one after the first view is up; one forgotten here is imported with its importer).
DIGITS_MODULES = ("models.mlp", "models.cnn", "models.checkpoint", "app.cache", "app.training_loop",
                  "app.digits_session", "app.digits_input", "app.canvas_ink", "app.gallery", "app.gallery_view",
                  "app.hidden_units", "app.hidden_units_view", "app.run_record", "app.runs", "app.taught",
                  "app.teach", "app.digits_view")


async def boot():
    if await import_numpy() is None:
        body.dataset.ready = "error"
        return
    from app.text_view import TextView
    from app.tictactoe_view import TicTacToeView
    from app.watchdog import WORKER_SCRIPT, Watchdog

    address = Address()
    address.take(window.location.hash)      # a link's settings, before the views read their controls
    # A view's model is fetched when the view is first shown, so a first visit downloads only
    # what it displays. The page is ready once the view in the address is. Digits is also built
    # only when needed: its modules take a quarter of a second to import, which a visit that
    # opens on the board does not wait for (they come in small steps once the board is up).
    views = {}

    def view(name):
        if name not in views:
            if name == "digits":
                from app.digits_view import DigitsView
                views[name] = DigitsView()
            else:
                views[name] = {"tictactoe": TicTacToeView, "text": TextView}[name]()
        return views[name]
    booted = {}
    address.watch()

    async def boot_view(name):
        await start_view(view(name).boot, view(name))
        document.getElementById(name).dataset.ready = "true"

    def show(name):
        name = name if name in VIEWS else "tictactoe"
        if name not in booted:
            booted[name] = asyncio.ensure_future(boot_view(name))
        return booted[name]

    def on_hash(event):
        show(view_name(window.location.hash))
        address.take(window.location.hash, notify=True)

    listen(window, "hashchange", on_hash, "Opening that view")
    await show(view_name(window.location.hash))
    body.dataset.ready = "true"
    for module in DIGITS_MODULES:           # one module a task: a click meanwhile waits for one at most
        await asyncio.sleep(0)
        importlib.import_module(module)
    view("digits"), view("text")

    # The worker starts only now, so its own Pyodide does not compete with the page's for the CPU
    # while the page loads; on a first visit, once the service worker has taken over (or not in
    # time), so that the data blocks it fetches are kept for offline use. The watchdog replaces
    # the worker if it dies or hangs (app/watchdog.py).
    try:
        await asyncio.wait_for(window.falkenOffline.settled, OFFLINE_WAIT_S)
    except asyncio.TimeoutError:
        pass
    watchdog = Watchdog([views["digits"], views["text"]])
    try:
        # A missing worker script would only show as a worker that never answers: ask first
        # (GET, not HEAD: S3 refuses an anonymous HEAD the bucket policy allows as GET).
        script = await fetch(WORKER_SCRIPT)
        if not script.ok:
            raise RuntimeError(f"{WORKER_SCRIPT.lstrip('./')} could not be loaded: the server answered HTTP {script.status}")
        trainer, inbox = await watchdog.start()
    except Exception as error:
        body.dataset.worker = "failed"
        show_error(f"The trainer could not start ({error}), so training is unavailable. The game, drawing "
                   "and prediction, and writing with the shipped models still work.")
        return

    async def connect(trainer, inbox):
        for trained in (views["digits"], views["text"]):
            await start_view(lambda: trained.connect(trainer, inbox), trained)
    await connect(trainer, inbox)
    watching.append(asyncio.ensure_future(watchdog.watch(connect)))   # kept: a task no one holds may be collected


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
