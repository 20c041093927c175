"""The page's live PyProxies, counted: catches a Python object handed to JS per event and never freed.

With allocation tracing on, Pyodide (0.29) keeps every PyProxy made since, until it is destroyed,
in `_module.pyproxy_alloc_map`; its size is the number alive. PyScript's `env.py` (polyscript's
registry, `globalThis[Symbol.for('polyscript')]`) is the page's interpreter.
"""
TRACE = ("globalThis[Symbol.for('polyscript')].env.py.then(py => {"
         " py._module.enable_pyproxy_allocation_tracing(); window.pyodideTraced = py; })")


def trace_proxies(page):
    """Count from now on (proxies made before are not in the map)."""
    page.js(TRACE)
    page.wait_for("!!window.pyodideTraced", what="Pyodide's proxy tracing")


def live_proxies(page):
    return page.js("return window.pyodideTraced._module.pyproxy_alloc_map.size")
