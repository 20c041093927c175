"""`make bench`: run the native and browser benchmarks, write build/bench/results.{json,md}.

    .venv/bin/python -m bench [--runs 5] [--part all|native|browser|engines|peers] [--compare OLD.json] [--label TEXT]

A part not run this time (--part) is carried over from the previous results.json. Every run
is also kept as build/bench/history/<time>[-label].json, so a before/after table is
`--compare build/bench/history/<before>.json`.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"


def log(message):
    print(message, flush=True)


def run_native(runs, seconds):
    """The native part in a subprocess with one BLAS thread (set before numpy is imported)."""
    from bench.native import THREAD_ENV
    try:
        import importlib.util
        if importlib.util.find_spec("torch") is None:
            return {"skipped": "native part skipped: torch is not installed (`make bench` installs "
                               "requirements-bench.txt)"}, {}
    except Exception:
        pass
    env = dict(os.environ, **THREAD_ENV)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "native.json"
        subprocess.run([sys.executable, "-m", "bench.native", "--runs", str(runs), "--seconds", str(seconds),
                        "--json", str(out)], env=env, cwd=ROOT, check=True)
        data = json.loads(out.read_text())
    return {"figures": data["figures"]}, data["versions"]


def compare_path(value, out):
    """A results file, or a label: the newest build/bench/history/*-<label>.json."""
    if Path(value).is_file():
        return Path(value)
    found = sorted((out / "history").glob(f"*-{value}.json"))
    if not found:
        raise SystemExit(f"bench: --compare {value}: no such file and no run labelled {value!r} in {out / 'history'}")
    return found[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (at least 5 for the table)")
    parser.add_argument("--part", choices=["all", "native", "browser", "engines", "peers"], default="all")
    parser.add_argument("--engine-runs", type=int, default=3, help="runs per engine in the side-by-side part")
    parser.add_argument("--engine", action="append", choices=["chromium", "firefox", "webkit"],
                        help="only this engine in the side-by-side and peers parts (repeatable)")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one native timed run")
    parser.add_argument("--train-window", type=float, default=10.0, help="seconds measured per batch size")
    parser.add_argument("--compare", help="an earlier results.json, or the label of an earlier run: adds a Before column")
    parser.add_argument("--label", default="", help="a word for this run (e.g. before, after)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench import report

    args.out.mkdir(parents=True, exist_ok=True)
    previous_path = args.out / "results.json"
    previous = report.load(previous_path) if previous_path.exists() else None
    started = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    results = {"schema": "falken-bench/1", "date": now.strftime("%Y-%m-%d %H:%M UTC"), "label": args.label,
               "runs": args.runs, "machine": report.machine(), "versions": {}, "parts": {}, "figures": []}
    failed = []

    def carry(part):
        if previous and part in previous.get("parts", {}):
            results["parts"][part] = dict(previous["parts"][part], carried_from=previous["date"])
            results["figures"] += [f for f in previous["figures"] if f["group"] == part]
            for key, value in previous.get("versions", {}).items():
                results["versions"].setdefault(key, value)
        else:
            results["parts"][part] = {"skipped": f"not run (--part {args.part}) and no earlier results"}

    if args.part in ("all", "native"):
        log("native: numpy vs torch (1 BLAS thread) …")
        try:
            part, versions = run_native(args.runs, args.seconds)
            results["versions"].update(versions)
        except Exception as error:
            part = {"skipped": f"native part failed: {error}"}
            failed.append("native")
        results["parts"]["native"] = {k: v for k, v in part.items() if k != "figures"}
        results["figures"] += part.get("figures", [])
        log(part.get("skipped", "native: done"))
    else:
        carry("native")

    if args.part in ("all", "browser"):
        log("browser: headless Chromium …")
        from bench import browser
        try:
            part = browser.run(args.runs, train_window=args.train_window, log=log)
        except Exception as error:
            traceback.print_exc()
            part = {"skipped": f"browser part failed: {type(error).__name__}: {str(error).splitlines()[0]}"}
            failed.append("browser")
        meta = part.get("meta", {})
        for key in ("chromium", "pyodide_numpy", "pyodide_python"):
            if meta.get(key):
                results["versions"][key] = meta[key]
        results["parts"]["browser"] = {k: v for k, v in part.items() if k != "figures"}
        if meta.get("notes"):
            results["parts"]["browser"]["notes"] = meta["notes"]
        results["figures"] += part.get("figures", [])
        log(part.get("skipped", "browser: done"))
    else:
        carry("browser")

    if args.part in ("all", "engines"):
        log("engines: Chromium, Firefox, WebKit side by side …")
        from bench import engines
        try:
            part = engines.run(args.engine_runs, train_window=args.train_window, log=log, only=args.engine)
        except Exception as error:
            traceback.print_exc()
            part = {"skipped": f"engines part failed: {type(error).__name__}: {str(error).splitlines()[0]}"}
            failed.append("engines")
        results["parts"]["engines"] = {k: v for k, v in part.items() if k not in ("figures", "meta")}
        results["parts"]["engines"]["notes"] = part.get("meta", {}).get("notes", [])
        results["figures"] += part.get("figures", [])
        log(part.get("skipped", "engines: done"))
    else:
        carry("engines")

    if args.part in ("all", "peers"):
        log("peers: Falken vs TF.js and ConvNetJS in every engine …")
        from bench import peers
        try:
            part = peers.run(args.runs, log=log, only=args.engine)
        except Exception as error:
            traceback.print_exc()
            part = {"skipped": f"peers part failed: {type(error).__name__}: {str(error).splitlines()[0]}"}
            failed.append("peers")
        meta = part.get("meta", {})
        results["versions"].update(meta.get("versions", {}))
        results["parts"]["peers"] = {k: v for k, v in part.items() if k not in ("figures", "meta")}
        results["parts"]["peers"].update(notes=meta.get("notes", []), sessions=meta.get("sessions", {}))
        results["figures"] += part.get("figures", [])
        log(part.get("skipped", "peers: done"))
    else:
        carry("peers")

    results["seconds"] = round(time.monotonic() - started, 1)
    before = report.index(report.load(compare_path(args.compare, args.out))) if args.compare else None
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.md").write_text(report.render(results, before))
    history = args.out / "history"
    history.mkdir(exist_ok=True)
    stamp = now.strftime("%Y%m%d-%H%M%S") + (f"-{args.label}" if args.label else "")
    (history / f"{stamp}.json").write_text(json.dumps(results, indent=1))
    print()
    print(report.render(results, before))
    log(f"wrote {args.out / 'results.json'} and {args.out / 'results.md'} in {results['seconds']:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
