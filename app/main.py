"""The page's entry point: boot Python, check numpy, reach the trainer worker, start the three views."""
import json

from pyscript import create_named_worker, document

from app.errors import show_error
from app.runtime import import_numpy

body = document.body


async def boot():
    if await import_numpy() is None:
        body.dataset.ready = "error"
        return
    from app.digits_view import DigitsView
    from app.text_view import TextView
    from app.tictactoe_view import TicTacToeView

    # Everything that runs on the main thread first: the page is usable before the worker is up.
    views = [TicTacToeView(), DigitsView(), TextView()]
    for view in views:
        await start_view(view.boot, view)
    body.dataset.ready = "true"

    # The worker starts only now, so its own Pyodide does not compete with the page's for the CPU
    # while the page loads.
    trainer = await create_named_worker("./app/trainer.py", "trainer", config="./pyscript.toml")
    reply = json.loads(await trainer.ping())
    body.dataset.worker = "ready" if reply["numpy"] else "no-numpy"
    body.dataset.workerNumpy = reply["numpy"] or ""
    # Functions set on the worker script's xworker.sync are the ones the worker can call back.
    inbox = document.querySelector('script[worker][name="trainer"]').xworker.sync
    for view in views[1:]:
        await start_view(lambda: view.connect(trainer, inbox), view)


async def start_view(step, view):
    """Run one view's start-up step; a failure there is reported and the other views go on."""
    try:
        await step()
    except Exception as error:
        show_error(f"{type(view).__name__.removesuffix('View')} could not start: {error}")


try:
    await boot()  # noqa: F704 -- PyScript runs this module with top-level await
except Exception as error:
    body.dataset.ready = "error"
    show_error(f"Falken could not start: {error}")
finally:
    document.getElementById("boot-status").textContent = ""
