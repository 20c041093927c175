"""Falken models: pure numpy nets, optimisers, game rules, knowledge files and dev-kit CLIs.

Nothing here imports the browser (js/pyscript/pyodide) or anything beyond numpy + stdlib at
module level, so the same code runs in CPython and in Pyodide.
"""
