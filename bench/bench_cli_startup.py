"""CLI start-up: `--help`, `tokens list` and `audit verify` on an empty store, before and after.

    python bench/bench_cli_startup.py [--runs 15] [--baseline-rev 9383452] [--smoke]

"Before" is the package as it was at `--baseline-rev` (the commit before the
lazy imports), unpacked with `git archive` into a temporary folder; "after" is
this checkout. Both run in fresh interpreters of this venv, alternately, on the
same migrated empty instance (SQLite, file keys), so background load hits both
alike; both are byte-compiled first, as an installed package is. Each figure is
the median wall time of `--runs` processes, beside the cumulative
`python -X importtime` of `import feedbackvault.cli` (median of 3) and the floor
no lazy import removes (`python -c 'import sqlalchemy.orm'`).
Target: under 300 ms for each command. Writes `bench/results/cli_startup.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# The last commit before the CLI's imports were made lazy (issue 24).
BASELINE_REV = "9383452"
TARGET_MS = 300
COMMANDS = {
    "--help": ["--help"],
    "tokens list": ["tokens", "list"],
    "audit verify": ["audit", "verify"],
}


def unpack(rev: str, into: Path) -> Path | None:
    """Unpack the package, migrations and policies of a revision; None if it is unknown."""
    done = subprocess.run(
        ["git", "archive", "--format=tar", rev, "feedbackvault", "migrations", "policies"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    with tarfile.open(fileobj=BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    return into


def children_cpu_ms() -> float:
    """Return the CPU time (user + system) of the finished child processes so far, in ms."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def run_cli(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run the CLI of a source tree once; return its wall and CPU time in milliseconds.

    The CPU time is the figure to read on a shared machine: waiting for a core
    inflates the wall time, not the work done.
    """
    cpu = children_cpu_ms()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "feedbackvault.cli", *args],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed in {tree}: {done.stderr[-500:]}")
    return elapsed, children_cpu_ms() - cpu


def run_python(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run the interpreter with these arguments; return its wall and CPU time in ms."""
    cpu = children_cpu_ms()
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True)
    return (time.perf_counter() - started) * 1000, children_cpu_ms() - cpu


def import_time_ms(tree: Path, env: dict[str, str]) -> float:
    """Return the cumulative -X importtime of `import feedbackvault.cli`, in milliseconds."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import feedbackvault.cli"],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    for line in reversed(done.stderr.splitlines()):
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == "feedbackvault.cli":
            return int(parts[1]) / 1000
    raise RuntimeError("feedbackvault.cli not in the -X importtime output")


def main() -> int:
    """Measure and print the figures; exit 1 when a command fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--smoke", action="store_true", help="2 runs per command")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    runs = 2 if args.smoke else args.runs
    output = args.output or RESULTS / f"cli_startup{'-smoke' if args.smoke else ''}.json"

    with tempfile.TemporaryDirectory(prefix="fv-cli-bench-") as scratch:
        folder = Path(scratch)
        trees = {"after": ROOT}
        before = unpack(args.baseline_rev, folder / "before")
        if before is not None:
            trees["before"] = before
        else:
            print(f"baseline {args.baseline_rev} not in this repository: 'after' only")
        env = {
            key: value for key, value in os.environ.items() if not key.startswith("FEEDBACKVAULT_")
        }
        env["FEEDBACKVAULT_INSTANCE_DIR"] = str(folder / "instance")
        run_cli(ROOT, ["init"], env)
        for tree in trees.values():
            # As an installed package (and the Docker image) is: byte-compiled. Without
            # it, PYTHONDONTWRITEBYTECODE=1 would have every run compile the package.
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", str(tree / "feedbackvault")],
                check=True,
                env=env,
            )

        timings: dict[str, dict[str, list[float]]] = {
            name: {label: [] for label in trees} for name in COMMANDS
        }
        cpu: dict[str, dict[str, list[float]]] = {
            name: {label: [] for label in trees} for name in COMMANDS
        }
        for name, command in COMMANDS.items():
            for tree in trees.values():
                run_cli(tree, command, env)  # warm the page cache and the bytecode
            for _ in range(runs):
                for label, tree in trees.items():
                    wall, used = run_cli(tree, command, env)
                    timings[name][label].append(wall)
                    cpu[name][label].append(used)
        # The floor no lazy import removes: the interpreter and SQLAlchemy's ORM.
        floor_runs = [run_python(["-c", "import sqlalchemy.orm"], env) for _ in range(runs)]
        floor = statistics.median(wall for wall, _ in floor_runs)
        floor_cpu = statistics.median(used for _, used in floor_runs)
        imports = {
            label: statistics.median(import_time_ms(tree, env) for _ in range(3))
            for label, tree in trees.items()
        }

    figures: list[dict[str, Any]] = []
    print(f"CLI start-up, median of {runs} runs, ms (wall; CPU = user + system of the process)")
    print(
        f"{'command':<14}{'before':>8}{'after':>8}{'ratio':>7}"
        f"{'CPU before':>12}{'after':>8}{'ratio':>7}  target < {TARGET_MS} ms"
    )
    for name in COMMANDS:
        after = statistics.median(timings[name]["after"])
        base = statistics.median(timings[name]["before"]) if "before" in trees else None
        ratio = round(after / base, 3) if base else None
        cpu_after = statistics.median(cpu[name]["after"])
        cpu_base = statistics.median(cpu[name]["before"]) if "before" in trees else None
        cpu_ratio = round(cpu_after / cpu_base, 3) if cpu_base else None
        print(
            f"{name:<14}{base or 0:>8.0f}{after:>8.0f}{ratio or '-':>7}"
            f"{cpu_base or 0:>12.0f}{cpu_after:>8.0f}{cpu_ratio or '-':>7}"
        )
        figures.append(
            {
                "figure": f"CLI start-up: feedbackvault {name} (empty store, SQLite)",
                "unit": "ms median",
                "feedbackvault": round(after, 1),
                "baseline": round(base, 1) if base is not None else None,
                "ratio": ratio,
                "target": f"< {TARGET_MS} ms",
                "met": after < TARGET_MS,
                "detail": f"before = {args.baseline_rev}; {runs} runs each, alternating; "
                f"min {min(timings[name]['after']):.0f} ms; CPU {cpu_after:.0f} ms "
                f"(before {cpu_base or 0:.0f})",
            }
        )
    print(
        f"{'floor':<14}{'':>8}{floor:>8.0f}{'':>7}{'':>12}{floor_cpu:>8.0f}"
        "  (python -c 'import sqlalchemy.orm')"
    )
    print(
        f"{'import cli':<14}{imports.get('before', 0):>8.0f}{imports['after']:>8.0f}"
        "  (-X importtime, cumulative)"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "cli_startup",
        "runs": runs,
        "baseline_rev": args.baseline_rev if "before" in trees else None,
        "timings_ms": timings,
        "cpu_ms": cpu,
        "floor_cpu_ms": floor_cpu,
        "import_cli_ms": imports,
        "floor_ms": floor,
        "figures": figures,
    }
    output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
