"""Measure ingest throughput of feedbackvault against the privacy-free baseline, same run.

Both apps run under gunicorn on 127.0.0.1 (2 sync workers, and 2 gthread
workers x 4 threads) and are loaded by wrk (a Lua script makes every body
unique: 80% new subjects, 20% returning) or, where wrk is missing, by a Python
multi-process keep-alive generator. Trials of the two apps alternate so that
background load hits both alike. After each trial the stored rows must match
the requests answered 201. Writes `bench/results/ingest.json`.

    python bench/bench_ingest.py [--pg-url ADMIN_URL] [--duration 10] [--smoke]
    python bench/bench_ingest.py --profile 2000 [--pg-url ADMIN_URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest_load import LoadResult, body, given_at, run_load
from servers import (
    ROOT,
    Server,
    fresh_pg_databases,
    prepare_baseline,
    prepare_feedbackvault,
)
from sqlalchemy import create_engine, text

RESULTS = ROOT / "bench" / "results"
WORKER_CLASSES = {"sync": [], "gthread": ["--threads", "4"]}
TARGET_RATIO = 0.5


@dataclass
class Trial:
    """One fixed-duration load of one app."""

    req_s: float
    accepted: int
    stored: int
    other_statuses: dict[str, int]
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    in_flight_at_stop: int
    verified: bool
    # CPU the gunicorn master and workers spent per accepted request (user + system):
    # unlike req/s, hardly moved by whatever else shares the machine's two cores.
    worker_cpu_ms: float | None = None


@dataclass
class Run:
    """Every trial of one app on one database with one worker class."""

    app: str
    database: str
    worker_class: str
    trials: list[Trial] = field(default_factory=list)

    def rates(self) -> list[float]:
        """Return the req/s of each trial."""
        return [t.req_s for t in self.trials]

    def summary(self) -> dict[str, Any]:
        """Return median, min and max req/s and whether every trial verified."""
        rates = self.rates()
        return {
            "median_req_s": round(statistics.median(rates), 1),
            "min_req_s": round(min(rates), 1),
            "max_req_s": round(max(rates), 1),
            "p50_ms": _median([t.p50_ms for t in self.trials]),
            "p99_ms": _median([t.p99_ms for t in self.trials]),
            "worker_cpu_ms": _median([t.worker_cpu_ms for t in self.trials]),
            "verified": all(t.verified for t in self.trials),
        }


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


@dataclass
class Target:
    """An app ready to load: its server, request path, token and row counter."""

    name: str
    server: Server
    path: str
    token: str | None
    database_url: str
    table: str

    def count_rows(self) -> int:
        """Count the stored responses."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return int(
                    connection.execute(text(f"SELECT COUNT(*) FROM {self.table}")).scalar_one()
                )
        finally:
            engine.dispose()

    def settled_rows(self, timeout: float = 10.0) -> int:
        """Count rows once requests still in flight at the stop have been answered."""
        deadline, last = time.monotonic() + timeout, -1
        while True:
            rows = self.count_rows()
            if rows == last or time.monotonic() > deadline:
                return rows
            last = rows
            time.sleep(0.3)


def measure(target: Target, args: argparse.Namespace, run_id: str, duration: float) -> Trial:
    """Load the target for `duration` seconds and check stored rows against 201s."""
    before = target.count_rows()
    cpu_before = process_tree_cpu_s(target.server.process.pid)
    load: LoadResult = run_load(
        base_url=target.server.base_url,
        path=target.path,
        token=target.token,
        run_id=run_id,
        duration=duration,
        connections=args.connections,
        generator=args.generator,
    )
    stored = target.settled_rows() - before
    cpu_spent = process_tree_cpu_s(target.server.process.pid) - cpu_before
    # wrk drops the answers to requests still in flight when it stops; the
    # server may have stored them, so up to `connections` extra rows are expected.
    slack = args.connections if load.generator == "wrk" else 0
    in_flight = stored - load.accepted
    return Trial(
        req_s=round(load.accepted / load.elapsed, 1),
        accepted=load.accepted,
        stored=stored,
        other_statuses=load.other_statuses,
        errors=load.errors,
        p50_ms=load.p50_ms,
        p99_ms=load.p99_ms,
        in_flight_at_stop=in_flight,
        verified=0 <= in_flight <= slack and load.accepted > 0,
        worker_cpu_ms=round(cpu_spent * 1000 / load.accepted, 3) if load.accepted else None,
    )


def process_tree_cpu_s(pid: int) -> float:
    """Sum the user and system CPU seconds of a process and its children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # a worker that exited between the two reads
        # utime and stime are fields 14 and 15 of stat; 12 and 13 after the ")".
        total += (int(fields[11]) + int(fields[12])) / tick
        pending.extend(int(child) for child in children)
    return total


@contextmanager
def database_urls(database: str, pg_url: str | None, workdir: Path) -> Iterator[dict[str, str]]:
    """Yield fresh data, key-store and baseline database URLs (dropped afterwards)."""
    if database == "sqlite":
        yield {
            "data": f"sqlite:///{workdir / 'data.db'}",
            "keys": f"sqlite:///{workdir / 'keys.db'}",
            "base": f"sqlite:///{workdir / 'base.db'}",
        }
        return
    assert pg_url is not None
    with fresh_pg_databases(pg_url, "bench_ingest", ("data", "keys", "base")) as urls:
        yield urls


def bench_database(database: str, args: argparse.Namespace, runs: list[Run]) -> None:
    """Run every worker class and trial of both apps on one database."""
    for worker_class in args.worker_classes:
        with ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fvbench-")))
            urls = stack.enter_context(database_urls(database, args.pg_url, workdir))
            gunicorn_args = ["--workers", "2", "--worker-class", worker_class]
            gunicorn_args += WORKER_CLASSES[worker_class]
            fv_env, token = prepare_feedbackvault(workdir / "instance", urls["data"], urls["keys"])
            base_env = prepare_baseline(urls["base"])
            targets = [
                Target(
                    "feedbackvault",
                    stack.enter_context(
                        Server.start(
                            "feedbackvault.app:create_app()",
                            gunicorn_args,
                            fv_env,
                            workdir / "feedbackvault.log",
                            "/healthz",
                        )
                    ),
                    "/api/v1/responses",
                    token,
                    urls["data"],
                    "response",
                ),
                Target(
                    "baseline",
                    stack.enter_context(
                        Server.start(
                            "bench.baseline.app:create_app()",
                            gunicorn_args,
                            base_env,
                            workdir / "baseline.log",
                            "/nps?survey_id=warm-up",
                        )
                    ),
                    "/responses",
                    None,
                    urls["base"],
                    "feedback",
                ),
            ]
            pair = [Run(t.name, database, worker_class) for t in targets]
            for target in targets:
                measure(target, args, f"{database}-{worker_class}-warm", args.warmup)
            for number in range(args.trials):
                for run, target in zip(pair, targets, strict=True):
                    tag = f"{database}-{worker_class}-{number}-{time.time_ns()}"
                    trial = measure(target, args, tag, args.duration)
                    run.trials.append(trial)
                    print(
                        f"  {database:10} {worker_class:7} {target.name:13} trial {number + 1}: "
                        f"{trial.req_s:8.1f} req/s  p50 {trial.p50_ms} ms  "
                        f"server CPU {trial.worker_cpu_ms} ms/req  "
                        f"stored-accepted {trial.in_flight_at_stop}  "
                        f"{'ok' if trial.verified else 'MISMATCH'}",
                        flush=True,
                    )
            runs.extend(pair)


def figures(runs: list[Run]) -> list[dict[str, Any]]:
    """Pair each feedbackvault run with its baseline and compute the ratio."""
    rows: list[dict[str, Any]] = []
    by_key = {(r.app, r.database, r.worker_class): r for r in runs}
    for (app, database, worker_class), run in by_key.items():
        base = by_key.get(("baseline", database, worker_class))
        if app != "feedbackvault" or base is None:
            continue
        fv_median = run.summary()["median_req_s"]
        base_median = base.summary()["median_req_s"]
        # Met is judged on the exact ratio: 0.497 rounded to 0.50 is not 0.5x.
        exact = fv_median / base_median if base_median else None
        ratio = round(exact, 3) if exact is not None else None
        verified = run.summary()["verified"] and base.summary()["verified"]
        rows.append(
            {
                "figure": f"ingest {database}, 2 {worker_class} workers"
                + (" x 4 threads" if worker_class == "gthread" else ""),
                "unit": "req/s",
                "feedbackvault": fv_median,
                "baseline": base_median,
                "ratio": ratio,
                "target": f">= {TARGET_RATIO}x baseline",
                "met": bool(exact is not None and exact >= TARGET_RATIO and verified),
                "detail": f"min/max fv {run.summary()['min_req_s']}/{run.summary()['max_req_s']}, "
                f"base {base.summary()['min_req_s']}/{base.summary()['max_req_s']}; "
                f"p50 {run.summary()['p50_ms']} vs {base.summary()['p50_ms']} ms; "
                f"server CPU {run.summary()['worker_cpu_ms']} vs "
                f"{base.summary()['worker_cpu_ms']} ms/req; rows verified: {verified}",
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    """Render the figures as a Markdown table."""
    lines = [
        "| figure | feedbackvault | baseline | ratio | target | met? | detail |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['figure']} | {row['feedbackvault']} | {row['baseline']} | "
            f"{row['ratio']} | {row['target']} | {'yes' if row['met'] else 'NO'} | "
            f"{row['detail']} |"
        )
    return "\n".join(lines) + "\n"


def profile_ingest(database: str, pg_url: str | None, count: int, results: Path) -> str:
    """Profile `count` submissions through the Flask test client; save the text profile."""
    import contextlib
    import io

    from pyinstrument import Profiler

    from feedbackvault.app import create_app
    from feedbackvault.settings import Settings

    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fvprof-")))
        urls = stack.enter_context(database_urls(database, pg_url, workdir))
        env, token = prepare_feedbackvault(workdir / "instance", urls["data"], urls["keys"])
        # The request log (one JSON line per request) is part of the cost; keep it off screen.
        with contextlib.redirect_stderr(io.StringIO()):
            app = create_app(Settings.from_env(env))
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        given = given_at()

        def submit(run_id: str, counter: int) -> None:
            answer = client.post(
                "/api/v1/responses", data=body(run_id, 0, counter, given), headers=headers
            )
            assert answer.status_code == 201, answer.get_data(as_text=True)

        for counter in range(1, 101):
            submit("warm", counter)
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        for counter in range(1, count + 1):
            submit("profile", counter)
        profiler.stop()
        per_request_ms = (time.perf_counter() - started) * 1000 / count
        app.extensions["feedbackvault"].databases.dispose()
    flat = profiler.output_text(flat=True, flat_time="self")
    tree = profiler.output_text(show_all=False)
    header = (
        f"# ingest profile, {database}: {count} submissions in-process (Flask test "
        f"client), {per_request_ms:.2f} ms each under the profiler\n"
    )
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"ingest_profile_{database}.txt"
    path.write_text(header + "\n## self time by function\n" + flat + "\n## call tree\n" + tree)
    return header + "\n".join(flat.splitlines()[:40]) + f"\n(full profile: {path})"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg-url",
        help="admin URL of a PostgreSQL server (fresh databases "
        "are created on it and dropped), e.g. postgresql+psycopg://postgres@127.0.0.1/postgres",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per trial")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per app")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--worker-classes", nargs="+", choices=sorted(WORKER_CLASSES), default=["sync", "gthread"]
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--smoke", action="store_true", help="1 s, 1 trial, sync only (CI)")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="instead of loading, profile N submissions in-process (pyinstrument)",
    )
    parser.add_argument("--output", type=Path, help="default: bench/results/ingest[-smoke].json")
    args = parser.parse_args(argv)
    args.output = args.output or RESULTS / f"ingest{'-smoke' if args.smoke else ''}.json"
    if args.smoke:
        args.duration, args.warmup, args.trials = 1.0, 0.5, 1
        args.worker_classes, args.connections = ["sync"], 4
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a trial's stored rows do not match its 201s."""
    args = parse_args(argv)
    databases = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.pg_url else [])
    if args.profile:
        for database in databases:
            print(profile_ingest(database, args.pg_url, args.profile, RESULTS))
        return 0
    started = datetime.now(UTC)
    runs: list[Run] = []
    failure = None
    try:
        for database in databases:
            bench_database(database, args, runs)
    except Exception as exc:  # report what ran, then fail
        failure = f"{type(exc).__name__}: {exc}"
        print(f"ingest benchmark failed: {failure}", file=sys.stderr)
    rows = figures(runs)
    ok = failure is None and bool(rows) and all(r.summary()["verified"] for r in runs)
    report = {
        "benchmark": "ingest",
        "smoke": args.smoke,
        "ok": ok,
        "failure": failure,
        "started_at": started.isoformat(),
        "seconds": round((datetime.now(UTC) - started) / timedelta(seconds=1), 1),
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in {"pg_url", "output"}
        },
        "runs": [{**asdict(r), **r.summary()} for r in runs],
        "figures": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(rows))
    print(f"wrote {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
