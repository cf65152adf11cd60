#!/usr/bin/env python3
"""A standard-library asyncio open-loop client, for comparison with loadgen_bench.

Same experiment as bench/loadgen_bench.cpp: Poisson arrivals at each rate for a few
seconds (after a warm-up at the same rate), streamed POST /v1/completions over HTTP/1.1
keep-alive connections (a pool; a new connection when none is idle), server-sent events
read and parsed as JSON, send lateness percentiles (numpy-style linear interpolation).
Lateness = the instant writer.write() returned for the request (asyncio's transport
tries the send() at once when its buffer is empty) minus the scheduled time.

  loadgen_asyncio.py --url http://127.0.0.1:PORT [--rates 500,1000,2000] [--duration 3]
"""
import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time


def quantile(sorted_v, q):
    if not sorted_v:
        return 0.0
    pos = q * (len(sorted_v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_v) - 1)
    return sorted_v[lo] + (sorted_v[hi] - sorted_v[lo]) * (pos - lo)


class Pool:
    def __init__(self, host, port):
        self.host, self.port, self.idle = host, port, []

    async def get(self):
        if self.idle:
            return self.idle.pop()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        return reader, writer


async def one_request(pool, body, due, out, idx):
    conn = await pool.get()
    reader, writer = conn
    head = (
        "POST /v1/completions HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
        "Accept: text/event-stream\r\nContent-Length: %d\r\n\r\n" % (pool.host, pool.port, len(body))
    ).encode()
    writer.write(head + body)
    sent = time.monotonic()
    tokens = 0
    ok = False
    try:
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(status)
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        buf = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            buf += data[:-2]
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                payload = event[len(b"data: "):]
                if payload == b"[DONE]":
                    ok = True
                    continue
                chunk = json.loads(payload)
                if chunk["choices"] and chunk["choices"][0].get("text"):
                    tokens += 1
        pool.idle.append(conn)
    except Exception as e:  # a failed request is counted, never hidden
        print("request %d failed: %r" % (idx, e), file=sys.stderr)
        writer.close()
    out[idx] = (sent - due, ok, tokens, time.monotonic() - sent)


async def run_rate(host, port, rate, duration, args, salt):
    rng = random.Random(args.seed * 1000003 + salt)
    sched, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t >= duration:
            break
        sched.append(t)
    pool = Pool(host, port)
    bodies = []
    for i in range(len(sched)):
        ids = [rng.randrange(10, 200) for _ in range(args.input)]
        bodies.append(json.dumps({"stream": True, "max_tokens": args.tokens, "min_tokens": args.tokens,
                                  "ignore_eos": True, "prompt": ids}).encode())
    out = [None] * len(sched)
    tasks = []
    loop = asyncio.get_running_loop()
    cpu0 = time.thread_time()
    start = loop.time()
    for i, at in enumerate(sched):
        due = start + at
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_request(pool, bodies[i], due, out, i)))
    await asyncio.gather(*tasks)
    cpu = time.thread_time() - cpu0
    for _, w in pool.idle:
        w.close()
    return out, cpu, (sched[-1] if sched else 0.0)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--rates", default="500,1000,1500,2000,2500,3000,4000")
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--tokens", type=int, default=4)
    ap.add_argument("--input", type=int, default=8)
    ap.add_argument("--bound-ms", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    hostport = args.url.split("//", 1)[1].rstrip("/")
    host, port = hostport.split(":")[0], int(hostport.split(":")[1])
    print("# loadgen_asyncio: %s, Poisson, %.1f s per rate after %.1f s warm-up, I=%d O=%d, Python %s"
          % (args.url, args.duration, args.warmup, args.input, args.tokens, sys.version.split()[0]))
    print("# lateness = writer.write() returned - scheduled time; bound p99 < %.3f ms" % args.bound_ms)
    print("%8s %7s %6s %6s %10s %10s %10s %10s %8s %6s  %s" % ("rate", "sent", "ok", "failed", "p50_us", "p99_us",
                                                              "max_us", "e2e_p50_us", "cpu_pct", "held", "loadavg"))
    best, misses = 0.0, 0
    for rate in [float(r) for r in args.rates.split(",")]:
        if args.warmup > 0:
            await run_rate(host, port, rate, args.warmup, args, 1)
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        out, cpu, span = await run_rate(host, port, rate, args.duration, args, 2)
        late = sorted(o[0] for o in out)
        ok = sum(1 for o in out if o[1] and o[2] == args.tokens)
        e2e = sorted(o[3] for o in out)
        p99 = quantile(late, 0.99)
        held = ok == len(out) and p99 < args.bound_ms * 1e-3
        print("%8.0f %7d %6d %6d %10.1f %10.1f %10.1f %10.1f %7.1f%% %6s  %s" % (
            rate, len(out), ok, len(out) - ok, quantile(late, 0.5) * 1e6, p99 * 1e6, late[-1] * 1e6,
            quantile(e2e, 0.5) * 1e6, 100.0 * cpu / span if span else 0.0, "yes" if held else "no", load))
        sys.stdout.flush()
        if held:
            best, misses = max(best, rate), 0
        else:
            misses += 1
            if misses >= 2:
                break
    print("highest rate held (p99 lateness < %.3f ms, no failures): %.0f requests/s" % (args.bound_ms, best))


if __name__ == "__main__":
    asyncio.run(main())
