"""Measure the peak RSS of one gunicorn worker while it exports a subject's 10,000 responses.

The responses are seeded through the project's own `CollectionService.submit`
(one subject, real encryption, consents, audit), then one sync worker serves
the access request: create, verify, fulfil (which streams the export) and
`GET .../export`. The worker's VmHWM (peak resident set) is read from /proc
before and after. Writes `bench/results/export_memory.json`.

    python bench/bench_export_memory.py [--pg-url ADMIN_URL] [--responses 10000] [--smoke]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_ingest import database_urls
from ingest_load import body, given_at
from servers import ROOT, Server, feedbackvault_cli, prepare_feedbackvault

RESULTS = ROOT / "bench" / "results"
TARGET_MIB = 100
EMAIL = "export-bench@example.nl"


def seed(env: dict[str, str], count: int) -> None:
    """Store `count` responses of one subject through CollectionService.submit."""
    from feedbackvault.api.collect.schemas import SubmissionSchema
    from feedbackvault.app import Services
    from feedbackvault.settings import Settings

    services = Services.build(Settings.from_env(env))
    schema, given = SubmissionSchema(), given_at()
    try:
        for counter in range(1, count + 1):
            submission = json.loads(body("export", 0, counter, given))
            submission["respondent"] = {
                "email": EMAIL,
                "name": "Export Bench",
                "customer_id": "C-EXPORT",
            }
            services.collection.submit(schema.load(submission), "bench")
    finally:
        services.databases.dispose()


def memory_kib(pid: int) -> dict[str, int]:
    """Return VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0])
    return fields


class Officer:
    """A privacy officer's HTTP client for one server."""

    def __init__(self, server: Server, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, payload: Any = None) -> tuple[int, bytes]:
        """Send one request and read the whole answer, a chunk at a time."""
        data = json.dumps(payload).encode() if payload is not None else None
        self.connection.request(method, "/api/v1/privacy" + path, data, self.headers)
        answer = self.connection.getresponse()
        chunks = []
        while chunk := answer.read(64 * 1024):
            chunks.append(chunk)
        if answer.will_close:
            self.connection.close()
        return answer.status, b"".join(chunks)


def exported_responses(document: bytes) -> int:
    """Count the responses in an export document (the fulfil answer or the download)."""
    parsed = json.loads(document)
    export = parsed.get("export", parsed)
    return len(export.get("responses", []))


def measure(database: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed, serve with one worker, run the access request and read the worker's peak RSS."""
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fvexport-")))
        urls = stack.enter_context(database_urls(database, args.pg_url, workdir))
        env, token = prepare_feedbackvault(
            workdir / "instance", urls["data"], urls["keys"], role="privacy_officer"
        )
        feedbackvault_cli(env, "tokens", "create", "--role", "collector", "--name", "seed")
        started = time.perf_counter()
        seed(env, args.responses)
        seeded_s = time.perf_counter() - started
        server = stack.enter_context(
            Server.start(
                "feedbackvault.app:create_app()",
                ["--workers", "1"],
                env,
                workdir / "server.log",
                "/healthz",
            )
        )
        (worker,) = server.worker_pids()
        officer = Officer(server, token)
        status, _ = officer.call("GET", "/requests?status=received")
        before = memory_kib(worker)
        status, created = officer.call(
            "POST", "/requests", {"kind": "access", "subject": {"email": EMAIL}}
        )
        if status != 201:
            raise RuntimeError(f"creating the access request answered {status}: {created[:300]!r}")
        request_id = json.loads(created)["id"]
        status, answer = officer.call(
            "POST", f"/requests/{request_id}/verify", {"method": "benchmark"}
        )
        if status != 200:
            raise RuntimeError(f"verify answered {status}: {answer[:300]!r}")
        timer = time.perf_counter()
        status, fulfilled = officer.call("POST", f"/requests/{request_id}/fulfil")
        fulfil_s = time.perf_counter() - timer
        if status != 200:
            raise RuntimeError(f"fulfil answered {status}: {fulfilled[:300]!r}")
        after_fulfil = memory_kib(worker)
        timer = time.perf_counter()
        status, download = officer.call("GET", f"/requests/{request_id}/export")
        export_s = time.perf_counter() - timer
        if status != 200:
            raise RuntimeError(f"export answered {status}: {download[:300]!r}")
        after_export = memory_kib(worker)
    counts = {"fulfil": exported_responses(fulfilled), "export": exported_responses(download)}
    peak_mib = round(after_export["VmHWM"] / 1024, 1)
    return {
        "database": database,
        "responses": args.responses,
        "seed_seconds": round(seeded_s, 1),
        "rss_before_mib": round(before["VmRSS"] / 1024, 1),
        "peak_before_mib": round(before["VmHWM"] / 1024, 1),
        "peak_after_fulfil_mib": round(after_fulfil["VmHWM"] / 1024, 1),
        "peak_after_export_mib": peak_mib,
        "fulfil_seconds": round(fulfil_s, 2),
        "export_seconds": round(export_s, 2),
        "export_bytes": len(download),
        "exported": counts,
        "complete": counts["fulfil"] == counts["export"] == args.responses,
    }


def figure(result: dict[str, Any]) -> dict[str, Any]:
    """Turn one measurement into a results-table row."""
    peak = result["peak_after_export_mib"]
    return {
        "figure": f"export peak RSS of one worker, {result['database']}, "
        f"{result['responses']:,} responses",
        "unit": "MiB",
        "feedbackvault": peak,
        "baseline": None,
        "ratio": None,
        "target": f"< {TARGET_MIB} MiB",
        "met": peak < TARGET_MIB and result["complete"],
        "detail": f"idle worker {result['peak_before_mib']} MiB, after fulfil "
        f"{result['peak_after_fulfil_mib']} MiB; fulfil {result['fulfil_seconds']} s, "
        f"download {result['export_seconds']} s ({result['export_bytes']:,} bytes); "
        f"all responses exported: {result['complete']}",
    }


def main() -> int:
    """Run the measurement on each database; exit 1 on failure or an incomplete export."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="PostgreSQL admin URL (fresh databases, dropped after)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="200 responses (CI)")
    parser.add_argument(
        "--output", type=Path, help="default: bench/results/export_memory[-smoke].json"
    )
    args = parser.parse_args()
    args.output = args.output or RESULTS / f"export_memory{'-smoke' if args.smoke else ''}.json"
    if args.smoke:
        args.responses = 200
    databases = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.pg_url else [])
    results, failure = [], None
    try:
        for database in databases:
            results.append(measure(database, args))
            print(json.dumps(results[-1], indent=2), flush=True)
    except Exception as exc:  # report what ran, then fail
        failure = f"{type(exc).__name__}: {exc}"
        print(f"export memory benchmark failed: {failure}", file=sys.stderr)
    ok = failure is None and bool(results) and all(r["complete"] for r in results)
    report = {
        "benchmark": "export memory",
        "smoke": args.smoke,
        "ok": ok,
        "failure": failure,
        "results": results,
        "figures": [figure(r) for r in results],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
