"""The page's entry point: boot Python, check numpy, reach the trainer worker, start the three views."""
import asyncio
import json

from pyscript import create_named_worker, document, window

from app.dom import listen
from app.errors import show_error
from app.runtime import import_numpy
from app.wording import sentence

body = document.body


async def boot():
    if await import_numpy() is None:
        body.dataset.ready = "error"
        return
    from app.digits_view import DigitsView
    from app.text_view import TextView
    from app.tictactoe_view import TicTacToeView

    # A view's model is fetched when the view is first shown, so a first visit downloads only
    # what it displays. The page is ready once the view in the address is.
    views = {"tictactoe": TicTacToeView(), "digits": DigitsView(), "text": TextView()}
    booted = {}

    async def boot_view(name):
        await start_view(views[name].boot, views[name])
        document.getElementById(name).dataset.ready = "true"

    def show(name):
        name = name if name in views else "tictactoe"
        if name not in booted:
            booted[name] = asyncio.ensure_future(boot_view(name))
        return booted[name]

    listen(window, "hashchange", lambda event: show(window.location.hash[1:]), "Opening that view")
    await show(window.location.hash[1:])
    body.dataset.ready = "true"

    # The worker starts only now, so its own Pyodide does not compete with the page's for the CPU
    # while the page loads.
    trainer = await create_named_worker("./app/trainer.py", "trainer", config="./pyscript.toml")
    reply = json.loads(await trainer.ping())
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
        show_error(sentence(f"{type(view).__name__.removesuffix('View')} could not start: {error}"))


try:
    await boot()  # noqa: F704 -- PyScript runs this module with top-level await
except Exception as error:
    body.dataset.ready = "error"
    show_error(sentence(f"Falken could not start: {error}"))
finally:
    document.getElementById("boot-status").textContent = ""
