"""The floor under paced streaming: CPU per small write to a loopback TCP socket, no HTTP.

    python tools/bench/write_floor.py [--connections 1000] [--per-tick 32] [--seconds 4] [--json]

One uvloop timer writes an 80-byte chunk (the size of one SSE token event) to `--per-tick`
connections every millisecond, round robin, while a child process on another core drains all of
them. Reports the server's user and system CPU per write. A paced event costs at least this
much whatever the server does, so `1e6 / total` is the most paced events per second one core
can deliver here, one write per event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None  # type: ignore[assignment]

CHUNK = b"4a\r\n" + b'data: {"choices":[{"delta":{"content":" word"}}]}\n\n'.ljust(74) + b"\r\n"

DRAIN = """
import selectors, socket, sys, time
n, port, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sel = selectors.DefaultSelector()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
end = time.monotonic() + seconds
while time.monotonic() < end:
    for key, _ in sel.select(0.1):
        try:
            key.fileobj.recv(65536)
        except BlockingIOError:
            pass
"""


class _Accept(asyncio.Protocol):
    def __init__(self, transports: list[asyncio.BaseTransport]) -> None:
        self.transports = transports

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transports.append(transport)


async def measure(connections: int, per_tick: int, seconds: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []
    server = await loop.create_server(lambda: _Accept(transports), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    drain = [sys.executable, "-c", DRAIN, str(connections), str(port), str(seconds + 30)]
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1:  # the server on the first core, the drain on the others
        os.sched_setaffinity(0, {cores[0]})
        drain = ["taskset", "-c", ",".join(map(str, cores[1:])), *drain]
    child = subprocess.Popen(drain)
    try:
        while len(transports) < connections:
            await asyncio.sleep(0.01)
        writers = [t.write for t in transports]  # type: ignore[attr-defined]
        done: asyncio.Future[None] = loop.create_future()
        writes, turn = 0, 0
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()

        def tick() -> None:
            nonlocal writes, turn
            for _ in range(per_tick):
                writers[turn](CHUNK)
                turn = (turn + 1) % connections
            writes += per_tick
            if time.monotonic() - started < seconds:
                loop.call_at(loop.time() + 0.001, tick)
            else:
                done.set_result(None)

        tick()
        await done
        after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        child.kill()
        child.wait()
        server.close()
    user = (after.ru_utime - before.ru_utime) / writes * 1e6
    system = (after.ru_stime - before.ru_stime) / writes * 1e6
    return {
        "writes": writes,
        "user_us_per_write": user,
        "system_us_per_write": system,
        "max_writes_per_s": 1e6 / (user + system),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--per-tick", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    result = asyncio.run(measure(args.connections, args.per_tick, args.seconds))
    print(json.dumps(result) if args.json else result)


if __name__ == "__main__":
    main()
