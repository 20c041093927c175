"""pyscript.toml copies into the browser exactly the modules the page and the worker import."""
import ast
import tomllib

from tests.conftest import ROOT

ENTRY_POINTS = ("app/main.py", "app/trainer.py")
OUR_PACKAGES = ("app", "models")


def module_path(dotted):
    parts = dotted.split(".")
    package = ROOT.joinpath(*parts, "__init__.py")
    return package if package.exists() else ROOT.joinpath(*parts[:-1], parts[-1] + ".py")


def imported_modules(path):
    """Our modules that `path` imports anywhere (top level or inside functions)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in OUR_PACKAGES and module_path(name).exists():
                found.add(name)
    return found


def browser_module_files():
    seen, todo = set(), list(ENTRY_POINTS)
    while todo:
        relative = todo.pop()
        if relative in seen:
            continue
        seen.add(relative)
        for dotted in imported_modules(ROOT / relative):
            for depth in range(1, dotted.count(".") + 2):   # packages' __init__ files come too
                todo.append(str(module_path(".".join(dotted.split(".")[:depth])).relative_to(ROOT)))
    return seen


def test_pyscript_toml_lists_every_module_the_browser_imports():
    config = tomllib.loads((ROOT / "pyscript.toml").read_text())
    listed = {source.removeprefix("./") for source in config["files"]}
    needed = browser_module_files() - {"app/main.py", "app/trainer.py"}   # loaded by <script src>
    assert needed - listed == set(), "add these to pyscript.toml [files]"
    for source, target in config["files"].items():
        assert (ROOT / source).exists() or source.startswith("./static/vendor/"), f"{source} does not exist"
        assert target == source or target == "./*", f"{source} should keep its path in the browser"


def test_the_browser_never_gets_the_dev_kit_and_models_never_import_the_browser():
    listed = tomllib.loads((ROOT / "pyscript.toml").read_text())["files"]
    assert not any(name in source for source in listed for name in ("models/train.py", "models/evaluate.py", "tests/"))
    for path in (ROOT / "models").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] not in ("js", "pyscript", "pyodide"), f"{path.name} imports {module}"
