"""The page's entry point: boot Python, check numpy, reach the trainer worker, start the three views."""
import json

from pyscript import document, workers

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

    trainer = await workers["trainer"]
    reply = json.loads(await trainer.ping())
    body.dataset.worker = "ready" if reply["numpy"] else "no-numpy"
    body.dataset.workerNumpy = reply["numpy"] or ""
    for view in (TicTacToeView(), DigitsView(trainer), TextView(trainer)):
        try:
            await view.boot()
        except Exception as error:
            show_error(f"{type(view).__name__.removesuffix('View')} could not start: {error}")
    body.dataset.ready = "true"


try:
    await boot()  # noqa: F704 -- PyScript runs this module with top-level await
except Exception as error:
    body.dataset.ready = "error"
    show_error(f"Falken could not start: {error}")
finally:
    document.getElementById("boot-status").textContent = ""
