"""Load an app with unique submissions for a fixed time: wrk where installed, else Python."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

# One in five submissions comes from a subject seen before, as on a real survey.
RETURNING_EVERY = 5

# The body of feedbackvault's POST /api/v1/responses (the baseline takes the same).
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  run, given, token, path = args[1], args[2], args[3], args[4]
  counter, created, other = 0, 0, 0
  statuses = {}
  wrk.headers["Content-Type"] = "application/json"
  if token ~= "-" then wrk.headers["Authorization"] = "Bearer " .. token end
end

function request()
  counter = counter + 1
  local n = counter
  if counter > RETURNING_EVERY and counter % RETURNING_EVERY == 0 then
    n = math.random(1, counter - 1)
  end
  local body = string.format(
    '{"survey_id":"bench-survey","purpose":"service-improvement",' ..
    '"consent":{"opt_in":true,"notice_version":"2026-01","given_at":"%s"},' ..
    '"respondent":{"email":"bench-%s-%d-%d@example.nl","name":"Bench Respondent %d",' ..
    '"customer_id":"C-%s-%d-%d"},' ..
    '"answers":{"nps":%d,"csat":%d,"ces":%d,"comment":"Snel geholpen, bestelling %d."},' ..
    '"touchpoint":"checkout","locale":"nl-NL"}',
    given, run, tid, n, n, run, tid, n, counter % 11, counter % 5 + 1, counter % 7 + 1, counter)
  return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else
    other = other + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created"); o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format(
    'FVBENCH {"created":%d,"other":%d,"errors":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}\n',
    c, o, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
""".replace("RETURNING_EVERY", str(RETURNING_EVERY))


@dataclass
class LoadResult:
    """What one load run achieved."""

    generator: str
    accepted: int
    elapsed: float
    errors: int = 0
    other_statuses: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None


def given_at() -> str:
    """Return a consent time just in the past (a future one is refused)."""
    return (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def body(run_id: str, worker: int, counter: int, given: str) -> bytes:
    """Build one unique submission (the Python generator's twin of the Lua script)."""
    n = counter
    if counter > RETURNING_EVERY and counter % RETURNING_EVERY == 0:
        n = random.randint(1, counter - 1)
    submission = {
        "survey_id": "bench-survey",
        "purpose": "service-improvement",
        "consent": {"opt_in": True, "notice_version": "2026-01", "given_at": given},
        "respondent": {
            "email": f"bench-{run_id}-{worker}-{n}@example.nl",
            "name": f"Bench Respondent {n}",
            "customer_id": f"C-{run_id}-{worker}-{n}",
        },
        "answers": {
            "nps": counter % 11,
            "csat": counter % 5 + 1,
            "ces": counter % 7 + 1,
            "comment": f"Snel geholpen, bestelling {counter}.",
        },
        "touchpoint": "checkout",
        "locale": "nl-NL",
    }
    return json.dumps(submission).encode()


def run_load(
    *,
    base_url: str,
    path: str,
    token: str | None,
    run_id: str,
    duration: float,
    connections: int,
    generator: str = "auto",
) -> LoadResult:
    """Load `base_url + path` for `duration` seconds over `connections` connections."""
    if generator == "wrk" or (generator == "auto" and shutil.which("wrk")):
        return _run_wrk(base_url, path, token, run_id, duration, connections)
    return _run_python(base_url, path, token, run_id, duration, connections)


def _run_wrk(
    base_url: str, path: str, token: str | None, run_id: str, duration: float, connections: int
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="fvwrk-") as tmp:
        script = Path(tmp) / "submit.lua"
        script.write_text(WRK_SCRIPT)
        threads = min(2, connections)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base_url,
            "--",
            run_id,
            given_at(),
            token or "-",
            path,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("FVBENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {done.stdout[-500:]} {done.stderr[-500:]}")
    figures = json.loads(line.removeprefix("FVBENCH "))
    return LoadResult(
        generator="wrk",
        accepted=figures["created"],
        elapsed=figures["duration_us"] / 1e6,
        errors=figures["errors"],
        other_statuses={"non-201": figures["other"]} if figures["other"] else {},
        p50_ms=round(figures["p50_us"] / 1000, 2),
        p99_ms=round(figures["p99_us"] / 1000, 2),
    )


def _python_worker(
    args: tuple[str, str, str | None, str, int, float, float, str],
) -> tuple[int, dict[str, int], int, list[float]]:
    """Send submissions one after another on one keep-alive connection until the deadline."""
    base_url, path, token, run_id, worker, start, deadline, given = args
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    accepted, errors, latencies, statuses = 0, 0, [], Counter[str]()
    counter = 0
    while time.time() < start:
        time.sleep(0.001)
    while time.time() < deadline:
        counter += 1
        sent = time.perf_counter()
        try:
            connection.request("POST", path, body(run_id, worker, counter, given), headers)
            answer = connection.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            continue
        latencies.append((time.perf_counter() - sent) * 1000)
        if answer.status == 201:
            accepted += 1
        else:
            statuses[str(answer.status)] += 1
    connection.close()
    return accepted, dict(statuses), errors, latencies


def _run_python(
    base_url: str, path: str, token: str | None, run_id: str, duration: float, connections: int
) -> LoadResult:
    # Processes, not threads: the generator must not be the bottleneck (the GIL).
    start = time.time() + 0.5
    given = given_at()
    jobs = [
        (base_url, path, token, run_id, w, start, start + duration, given)
        for w in range(connections)
    ]
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        results = pool.map(_python_worker, jobs)
        elapsed = time.time() - start
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    for _accepted, worker_statuses, _errors, worker_latencies in results:
        statuses.update(worker_statuses)
        latencies.extend(worker_latencies)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else None
    return LoadResult(
        generator="python",
        accepted=sum(r[0] for r in results),
        elapsed=elapsed,
        errors=sum(r[2] for r in results),
        other_statuses=dict(statuses),
        p50_ms=round(quantiles[49], 2) if quantiles else None,
        p99_ms=round(quantiles[98], 2) if quantiles else None,
    )
