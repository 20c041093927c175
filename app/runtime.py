"""What the interpreter could load: numpy, and a plain explanation when it could not."""
import json

from pyscript import fetch, window

PYODIDE_DIR = "./static/vendor/pyodide/"
HOW_TO_FIX = ("Put the wheel in ~/.cache/falken/wheels/ (or a folder named by $FALKEN_WHEELS) and run "
              "`make setup` again; with internet access `make setup` downloads it from the Pyodide CDN.")


async def numpy_missing_message():
    """Say which numpy file the page needed, where it looked, and how to fix it."""
    lock_url = str(window.URL.new(PYODIDE_DIR + "pyodide-lock.json", window.location.href))
    try:
        lock = json.loads(await (await fetch(lock_url)).text())
        file_name = lock["packages"]["numpy"]["file_name"]
    except Exception as error:
        return f"numpy could not be loaded, and the Pyodide lockfile {lock_url} is unreadable ({error}). {HOW_TO_FIX}"
    wheel_url = str(window.URL.new(PYODIDE_DIR + file_name, window.location.href))
    response = await fetch(wheel_url, method="HEAD")
    found = f"the server answered HTTP {response.status}" if not response.ok else "it is there but failed to load"
    return f"numpy could not be loaded from {wheel_url} ({found}). {HOW_TO_FIX}"


async def import_numpy():
    """The numpy module, or None after saying in #errors why it is missing."""
    try:
        import numpy
        return numpy
    except ImportError:
        from app.errors import show_error
        show_error(await numpy_missing_message())
        return None
