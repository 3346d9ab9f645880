#!/usr/bin/env python3
"""SSE load benchmark (issue 12): many log followers plus a steady mixed API load against a
real `alphalab serve`, with the server's RSS and descriptors before, during and after.

    /usr/bin/python3 bench/http/bench_sse_load.py --build build [--followers 1000] [--rps 200]
        [--seconds 60] [--jobs 10] [--followers-process]

What it does:
  1. Starts `<build>/bin/alphalab serve` on 127.0.0.1 (port 0) in a temporary workspace whose
     alphalab.yaml declares a `ticker` job type (/bin/sh printing a line every 0.1 s for the
     whole run) and starts --jobs of them.
  2. Opens --followers SSE streams (GET /api/jobs/{id}/log/stream, spread over the jobs) and
     keeps them reading; a follower that cannot connect, gets no 200 or loses its stream
     before the end counts as an error.
  3. Sends --rps requests per second for --seconds (open loop: a request is due every 1/rps s
     whatever the answers do), mixed: GET /api/health, GET /api/jobs/recent?limit=20,
     GET /api/jobs/{id}, GET /api/jobs/{id}/log?offset=0&tail=2000, and POST /api/jobs (a job
     running /bin/true) for 1 in 10. Latency is from sending the request to the whole answer.
  4. Samples the server's RSS (VmRSS) and open descriptors (/proc/<pid>/fd) before the
     followers connect, every second during the load, and 5 s after everything closed.
  With --followers-process the followers run in a second client process, so the API client's
  latencies are not those of one Python event loop that also reads every stream.
Prints one JSON object with the figures, and the load average of the machine.
Only the standard library (asyncio); no external packages.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def percentile(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))]


async def http_request(port, method, target, body=None, timeout=10.0):
    """One request on its own connection (Connection: close); returns (status, body bytes)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        writer.write(head.encode() + b"\r\n" + payload)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(-1), timeout)
    finally:
        writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.") else 0
    return status, raw.partition(b"\r\n\r\n")[2]


class Follower:
    def __init__(self):
        self.connected = False
        self.bytes = 0
        self.events = 0
        self.error = None


async def follow(port, job_id, f, stop):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
        writer.write(f"GET /api/jobs/{job_id}/log/stream?offset=0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        if not head.startswith(b"HTTP/1.1 200"):
            f.error = head.split(b"\r\n", 1)[0].decode(errors="replace")
            writer.close()
            return
        f.connected = True
        while not stop.is_set():
            chunk = await reader.read(65536)
            if not chunk:
                if not stop.is_set():
                    f.error = "stream closed early"
                break
            f.bytes += len(chunk)
            f.events += chunk.count(b"event: log")
        writer.close()
    except Exception as e:  # noqa: BLE001 - every failure is an error figure
        if not stop.is_set():
            f.error = type(e).__name__ + ": " + str(e)


async def start_followers(port, job_ids, n, stop):
    followers = [Follower() for _ in range(n)]
    tasks = []
    for i, f in enumerate(followers):
        tasks.append(asyncio.create_task(follow(port, job_ids[i % len(job_ids)], f, stop)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # connect in waves, like real followers arriving
    for _ in range(100):
        if sum(f.connected or f.error is not None for f in followers) == len(followers):
            break
        await asyncio.sleep(0.1)
    return followers, tasks


def followers_process(port, job_ids, n, ready, stop_event, q):
    """--followers-process: the followers in their own process; their figures go back on q."""
    async def main():
        stop = asyncio.Event()
        followers, tasks = await start_followers(port, job_ids, n, stop)
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, stop_event.wait)
        alive = sum(f.connected and f.error is None for f in followers)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        q.put({"connected": sum(f.connected for f in followers), "alive": alive,
               "errors": sum(f.error is not None for f in followers),
               "error_examples": sorted({f.error for f in followers if f.error})[:5],
               "log_events": sum(f.events for f in followers), "bytes": sum(f.bytes for f in followers)})
    asyncio.run(main())


async def run(args):
    ws = tempfile.mkdtemp(prefix="alphalab_bench_sse.")
    os.makedirs(os.path.join(ws, "configs"))
    with open(os.path.join(ws, "configs", "base.yaml"), "w") as f:
        f.write("dataset: demo\n")
    ticks = int(args.seconds * 10 + 600)
    with open(os.path.join(ws, "alphalab.yaml"), "w") as f:
        f.write("storage:\n  db: sqlite:alphalab.db\njob_types:\n"
                "  ticker:\n    description: prints a line every 0.1 s\n"
                f"    argv: [/bin/sh, -c, 'i=0; while [ $i -lt {ticks} ]; do echo tick $i; i=$((i+1)); sleep 0.1; done']\n"
                "  quick:\n    description: exits at once\n    argv: [/bin/true]\n")
    server = subprocess.Popen([os.path.join(args.build, "bin", "alphalab"), "serve", "--workspace", ws,
                               "--port", "0", "--slots", str(args.jobs + 4), "--no-access-log"],
                              stdout=subprocess.PIPE, stderr=open(os.path.join(ws, "server.err"), "w"), text=True)
    port = None
    for _ in range(200):
        line = server.stdout.readline()
        if "http://127.0.0.1:" in line:
            port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
            break
    if port is None:
        server.kill()
        raise SystemExit("server did not start; see " + ws)
    pid = server.pid
    out = {"followers": args.followers, "rps": args.rps, "seconds": args.seconds, "jobs": args.jobs,
           "loadavg_start": os.getloadavg()}
    try:
        job_ids = []
        for _ in range(args.jobs):
            status, body = await http_request(port, "POST", "/api/jobs", {"job_type": "ticker", "params": {}})
            assert status == 200, (status, body)
            job_ids.append(json.loads(body)["job_id"])
        await asyncio.sleep(1.0)
        out["before"] = {"rss_kb": proc_rss_kb(pid), "fds": proc_fds(pid)}

        if args.followers_process:
            # The followers in a process of their own (like browsers apart from the API
            # client): the API latencies are then not those of one event loop also reading
            # every stream.
            ctx = multiprocessing.get_context("spawn")
            fproc_stop = ctx.Event()
            fproc_ready = ctx.Event()
            fproc_q = ctx.Queue()
            fproc = ctx.Process(target=followers_process,
                                args=(port, job_ids, args.followers, fproc_ready, fproc_stop, fproc_q))
            fproc.start()
            await asyncio.get_running_loop().run_in_executor(None, fproc_ready.wait, 60)
            followers, tasks, stop = [], [], asyncio.Event()
        else:
            stop = asyncio.Event()
            followers, tasks = await start_followers(port, job_ids, args.followers, stop)
        out["followers_connected"] = (None if args.followers_process
                                      else sum(f.connected for f in followers))

        latencies = {}
        errors = {}
        samples = []
        pending = set()

        async def one(kind, method, target, body=None):
            t0 = time.perf_counter()
            try:
                status, _ = await http_request(port, method, target, body)
                ok = status == 200
            except Exception:  # noqa: BLE001
                ok = False
            dt = (time.perf_counter() - t0) * 1000
            latencies.setdefault(kind, []).append(dt)
            if not ok:
                errors[kind] = errors.get(kind, 0) + 1

        kinds = [("health", "GET", "/api/health"), ("recent", "GET", "/api/jobs/recent?limit=20"),
                 ("job", "GET", None), ("log", "GET", None)]
        start = time.perf_counter()
        n = 0
        next_sample = start
        total = int(args.rps * args.seconds)
        while n < total:
            due = start + n / args.rps
            now = time.perf_counter()
            if now >= next_sample:
                samples.append({"t": round(now - start, 1), "rss_kb": proc_rss_kb(pid), "fds": proc_fds(pid)})
                next_sample += 1.0
            if due > now:
                await asyncio.sleep(due - now)
            job = job_ids[n % len(job_ids)]
            if n % 10 == 9:
                t = asyncio.create_task(one("submit", "POST", "/api/jobs", {"job_type": "quick", "params": {}}))
            else:
                kind, method, target = kinds[n % 4]
                if kind == "job":
                    target = f"/api/jobs/{job}"
                elif kind == "log":
                    target = f"/api/jobs/{job}/log?offset=0&tail=2000"
                t = asyncio.create_task(one(kind, method, target))
            pending.add(t)
            t.add_done_callback(pending.discard)
            n += 1
        elapsed = time.perf_counter() - start
        if pending:
            await asyncio.wait(pending, timeout=30)
        still = sum(f.connected and f.error is None for f in followers)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if args.followers_process:
            fproc_stop.set()
            fstats = await asyncio.get_running_loop().run_in_executor(None, fproc_q.get, True, 60)
            fproc.join(30)
            followers = [Follower() for _ in range(args.followers)]
            out["followers_connected"] = fstats["connected"]
            still = fstats["alive"]
        all_lat = [x for v in latencies.values() for x in v]
        out["requests"] = len(all_lat)
        out["achieved_rps"] = round(len(all_lat) / elapsed, 1)
        out["errors"] = errors
        out["p50_ms"] = round(percentile(all_lat, 0.50), 2)
        out["p99_ms"] = round(percentile(all_lat, 0.99), 2)
        out["max_ms"] = round(max(all_lat), 2)
        out["p99_ms_by_kind"] = {k: round(percentile(v, 0.99), 2) for k, v in latencies.items()}
        out["followers_alive_at_end"] = still
        if args.followers_process:
            for k in ("errors", "error_examples", "log_events", "bytes"):
                out["follower_" + k] = fstats[k]
        else:
            out["follower_errors"] = sum(f.error is not None for f in followers)
            out["follower_error_examples"] = sorted({f.error for f in followers if f.error})[:5]
            out["follower_log_events"] = sum(f.events for f in followers)
            out["follower_bytes"] = sum(f.bytes for f in followers)
        out["during"] = {"rss_kb_max": max(s["rss_kb"] for s in samples), "fds_max": max(s["fds"] for s in samples),
                         "rss_kb_last": samples[-1]["rss_kb"], "fds_last": samples[-1]["fds"]}
        for jid in job_ids:
            try:
                await http_request(port, "POST", f"/api/jobs/{jid}/cancel", {}, timeout=30)
            except Exception:  # noqa: BLE001 - the jobs end by themselves anyway
                out.setdefault("cancel_errors", 0)
                out["cancel_errors"] += 1
        await asyncio.sleep(5.0)
        out["after"] = {"rss_kb": proc_rss_kb(pid), "fds": proc_fds(pid)}
        out["loadavg_end"] = os.getloadavg()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            shutil.rmtree(ws, ignore_errors=True)
    print(json.dumps(out, indent=2))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--followers", type=int, default=1000)
    p.add_argument("--rps", type=float, default=200)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--jobs", type=int, default=10)
    p.add_argument("--keep", action="store_true", help="keep the workspace")
    p.add_argument("--followers-process", action="store_true",
                   help="run the followers in a second client process (the API client alone in this one)")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, args.followers * 2 + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
