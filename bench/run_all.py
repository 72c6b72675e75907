"""Run every `bench/bench_*.py` and write one results table with ratios to the baseline.

    python bench/run_all.py [--smoke] [--pg-url postgresql+psycopg://postgres@127.0.0.1/postgres]

Each benchmark runs on SQLite and, with `--pg-url`, on PostgreSQL (a script
that takes `--database-url/--keystore-url` gets fresh databases created on that
server and dropped afterwards). The JSON files they write into `bench/results/`
during this run are gathered into `bench/results/summary.md` and
`summary.json`. A benchmark that is missing, fails or writes nothing is a row
marked failed, and the command exits 1.

A benchmark's JSON may carry `"figures": [{"figure", "unit", "feedbackvault",
"baseline", "ratio", "target", "met", "detail"}]`; for the others an adapter
below (keyed by the JSON's `"benchmark"`) derives the row.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from servers import ROOT, fresh_pg_databases

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
EXPECTED = [
    "bench_ingest.py",
    "bench_scores.py",
    "bench_subject_rights.py",
    "bench_sweep.py",
    "bench_export_memory.py",
    "bench_cli_startup.py",
]
SWEEP_TARGET = 50_000
SCORES_TARGET = 2
Figure = dict[str, Any]


def _sweep(result: dict[str, Any]) -> list[Figure]:
    dialect, rate = result.get("dialect"), result.get("rows_per_second")
    low, high = result.get("rows_per_second_min", rate), result.get("rows_per_second_max", rate)
    batch = result.get("batch_size")
    on_pg = dialect == "postgresql"
    return [
        {
            "figure": f"retention sweep, {dialect} ({result.get('expired'):,} expired "
            f"of {result.get('responses'):,}, {result.get('workers', 1)} sweeper(s))",
            "unit": "responses/s",
            "feedbackvault": rate,
            "baseline": None,
            "ratio": None,
            "target": f">= {SWEEP_TARGET:,}/s on PostgreSQL" if on_pg else "(PostgreSQL target)",
            "met": (rate is not None and rate >= SWEEP_TARGET) if on_pg else None,
            "detail": f"median of {result.get('trials', 1)} ({low}-{high}/s), batch {batch}",
        }
    ]


def _scores(result: dict[str, Any]) -> list[Figure]:
    rows = []
    timing = result.get("timing")
    if isinstance(timing, dict):
        fv, base = timing["endpoint"]["p50_ms"], timing["bare_sql"]["p50_ms"]
        exact = fv / base if base else None
        ratio = round(exact, 3) if exact is not None else None
        rows.append(
            {
                "figure": f"scores (NPS by month), {result.get('dialect')}, "
                f"{result.get('responses'):,} responses",
                "unit": "ms p50",
                "feedbackvault": fv,
                "baseline": base,
                "ratio": ratio,
                "target": f"<= {SCORES_TARGET}x baseline aggregate",
                # Judged on the exact ratio, not the rounded one shown.
                "met": exact is not None and exact <= SCORES_TARGET,
                "detail": f"baseline = one SQL NPS aggregate over the same rows; "
                f"by month {timing['bare_sql_by_month']['p50_ms']} ms",
            }
        )
    return rows


def _generic(result: dict[str, Any]) -> list[Figure]:
    numbers = {k: v for k, v in result.items() if isinstance(v, int | float) and k != "cpus"}
    return [
        {
            "figure": str(result.get("benchmark", "unnamed benchmark")),
            "unit": "",
            "feedbackvault": None,
            "baseline": None,
            "ratio": None,
            "target": "see its JSON",
            "met": None,
            "detail": ", ".join(f"{k}={v}" for k, v in list(numbers.items())[:8]),
        }
    ]


ADAPTERS: dict[str, Callable[[dict[str, Any]], list[Figure]]] = {
    "retention sweep": _sweep,
    "GET /api/v1/scores": _scores,
}
# Extra sizes some benchmarks run at in a full run (each list is one more invocation).
SIZES: dict[str, list[list[str]]] = {
    "bench_scores.py": [["--responses", "100000"], []],
    "bench_sweep.py": [[], ["--workers", "2"]],
}


def figures_of(result: dict[str, Any]) -> list[Figure]:
    """Return the table rows one result file stands for."""
    if isinstance(result.get("figures"), list):
        return list(result["figures"])
    name = str(result.get("benchmark"))
    for prefix, adapter in ADAPTERS.items():
        if name.startswith(prefix):
            return adapter(result)
    return _generic(result)


def accepted_flags(script: Path) -> str:
    """Return the script's `--help` text (to learn which database flags it takes)."""
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return done.stdout


def run_one(
    script: Path, database: str, args: argparse.Namespace, extra: list[str]
) -> tuple[bool, str]:
    """Run one benchmark on one database; return success and the tail of its output."""
    flags = accepted_flags(script)
    command = [sys.executable, str(script), *extra]
    if args.smoke:
        command.append("--smoke")
    if "--output" in flags:
        # One file per database: run on SQLite, then PostgreSQL, a script's default
        # output file would hold only the second run's results.
        tag = f"{database}{'-smoke' if args.smoke else ''}"
        command += ["--output", str(RESULTS / f"{script.stem.removeprefix('bench_')}-{tag}.json")]
    with ExitStack() as stack:
        if database == "postgresql":
            if "--pg-url" in flags:
                command += ["--pg-url", args.pg_url]
                if "--no-sqlite" in flags:
                    command.append("--no-sqlite")
            elif "--database-url" in flags and "--keystore-url" in flags:
                urls = stack.enter_context(
                    fresh_pg_databases(args.pg_url, "bench_all", ("data", "keys"))
                )
                command += ["--database-url", urls["data"], "--keystore-url", urls["keys"]]
            else:
                return True, "takes no PostgreSQL flag; skipped on PostgreSQL"
        print(f"== {script.name} on {database}: {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    output = (done.stdout + done.stderr).strip()
    print(output[-3000:], flush=True)
    return done.returncode == 0, output[-400:]


def collect(since: float) -> list[tuple[str, dict[str, Any]]]:
    """Read the result files written since the run began."""
    found = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name.startswith("summary") or path.stat().st_mtime < since:
            continue
        try:
            found.append((path.name, json.loads(path.read_text())))
        except json.JSONDecodeError:
            found.append((path.name, {"benchmark": path.stem, "unreadable": True}))
    return found


def render(rows: list[Figure]) -> str:
    """Render the rows as a Markdown table."""
    lines = [
        "| figure | feedbackvault | baseline | ratio | target | met? | detail |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    met_text = {True: "yes", False: "**NO**", None: "-"}
    for row in rows:
        cells = [
            row.get("figure"),
            row.get("feedbackvault"),
            row.get("baseline"),
            row.get("ratio"),
            row.get("target"),
            met_text[row.get("met")],
            row.get("detail"),
        ]
        unit = row.get("unit")
        if unit and row.get("feedbackvault") is not None:
            cells[0] = f"{cells[0]} ({unit})"
        lines.append("| " + " | ".join("" if c is None else str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Run everything; exit 1 when any benchmark is missing or failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, passed to each")
    parser.add_argument("--pg-url", help="PostgreSQL admin URL; fresh databases are made on it")
    parser.add_argument("--only", nargs="*", help="script names to run (default: all)")
    parser.add_argument(
        "--collect-only", action="store_true", help="run nothing; tabulate every JSON result there"
    )
    args = parser.parse_args()
    databases = ["sqlite"] + (["postgresql"] if args.pg_url else [])
    since = 0.0 if args.collect_only else time.time() - 1
    started = datetime.now(UTC)
    rows: list[Figure] = []
    failures: list[Figure] = []
    runs: list[str] = []
    scripts = sorted({*EXPECTED, *(p.name for p in BENCH.glob("bench_*.py"))})
    for name in [] if args.collect_only else scripts:
        if args.only and name not in args.only:
            continue
        script = BENCH / name
        if not script.exists():
            failures.append(_failed(name, "-", "missing: not written yet"))
            continue
        for database in databases:
            for extra in [[]] if args.smoke else SIZES.get(name, [[]]):
                ok, tail = run_one(script, database, args, extra)
                runs.append(f"- {name} {' '.join(extra)} on {database}: {'ok' if ok else 'FAILED'}")
                if not ok:
                    reason = tail.splitlines()[-1] if tail else ""
                    failures.append(_failed(name, database, reason))
    # A smoke run's files never mix with a full run's table, nor the other way round.
    results = [(n, r) for n, r in collect(since) if bool(r.get("smoke")) == args.smoke]
    for _name, result in results:
        rows.extend(figures_of(result))
    rows += failures
    ok = not failures and all(row.get("met") is not False for row in rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    heading = (
        f"# Benchmark results ({'smoke' if args.smoke else 'full'} run, "
        f"{started:%Y-%m-%d %H:%M} UTC)\n\nRatios are feedbackvault / baseline, "
        "measured in the same run on the same machine.\n\n"
    )
    runs_text = "\n## Runs\n\n" + "\n".join(runs) + "\n"
    (RESULTS / "summary.md").write_text(heading + render(rows) + runs_text)
    summary = {
        "started_at": started.isoformat(),
        "smoke": args.smoke,
        "databases": databases,
        "ok": not failures,
        "targets_met": ok,
        "figures": rows,
        "sources": [name for name, _ in results],
    }
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\n" + render(rows))
    print(f"wrote {RESULTS / 'summary.md'} and summary.json")
    # A missed target is a finding, not a broken benchmark; only failures fail the run.
    return 1 if failures else 0


def _failed(name: str, database: str, reason: str) -> Figure:
    return {
        "figure": f"{name} ({database})",
        "unit": "",
        "feedbackvault": None,
        "baseline": None,
        "ratio": None,
        "target": "runs",
        "met": False,
        "detail": f"FAILED: {reason}"[:300].replace("|", "/"),
    }


if __name__ == "__main__":
    sys.exit(main())
