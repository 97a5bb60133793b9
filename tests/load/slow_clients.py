#!/usr/bin/env python3
"""Holds many slow connections open against a TLS server, for tests/load_slow_clients.sh.

Kinds of connection (counts from the flags); each reconnects as soon as the server closes it, so
the population stays constant whatever the server's time limits:
  idle     TCP connect, then nothing (a TLS handshake that never starts)
  hello    a real TLS ClientHello sent a byte at a time
  headers  a complete TLS handshake, then request headers that never end, a byte at a time
  body     a complete handshake and headers (Content-Length: 1000000), then the body a byte at a time
With --once, a closed connection is not replaced.
Every INTERVAL seconds each trickling connection sends one byte. Until SIGTERM or SIGINT; a JSON
status (open now, connects, closes seen, mean and longest lifetime by kind, connect failures) is
written to --status every half second and at exit.

usage: slow_clients.py HOST PORT --status FILE [--idle N] [--hello N] [--headers N] [--body N]
                       [--interval SECONDS] [--once]  (python3 standard library only)
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import time

KINDS = ("idle", "hello", "headers", "body")


def client_hello():
    """The bytes of a real TLS ClientHello, taken from an in-memory handshake."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def endless(prefix, filler):
    """prefix once, then filler for ever."""
    yield from prefix
    while True:
        yield from filler


class Stats:
    def __init__(self):
        self.open = {k: 0 for k in KINDS}
        self.connects = {k: 0 for k in KINDS}
        self.closed = {k: 0 for k in KINDS}
        self.connect_failures = {k: 0 for k in KINDS}
        self.lifetime_sum = {k: 0.0 for k in KINDS}
        self.lifetime_max = {k: 0.0 for k in KINDS}

    def as_dict(self):
        mean = {k: round(self.lifetime_sum[k] / self.closed[k], 2) if self.closed[k] else None for k in KINDS}
        return {"open": self.open, "open_total": sum(self.open.values()), "connects": self.connects,
                "closed_by_server": self.closed, "connect_failures": self.connect_failures,
                "lifetime_mean_s": mean, "lifetime_max_s": {k: round(v, 2) for k, v in self.lifetime_max.items()}}


class Slot:
    def __init__(self, kind, args, stats, hello, tls):
        self.kind, self.args, self.stats, self.hello, self.tls = kind, args, stats, hello, tls

    def data(self):
        if self.kind == "hello":
            return iter(self.hello)  # then nothing more: the server must close it
        head = b"POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        if self.kind == "headers":
            return endless(head, b"X-Slow: y\r\n")
        return endless(head + b"Content-Length: 1000000\r\n\r\n", b"{")

    async def connect(self):
        if self.kind in ("headers", "body"):
            return await asyncio.open_connection(self.args.host, self.args.port, ssl=self.tls,
                                                 server_hostname="localhost")
        return await asyncio.open_connection(self.args.host, self.args.port)

    async def once(self):
        """One connection, from connect to the server closing it."""
        try:
            reader, writer = await asyncio.wait_for(self.connect(), 30)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            self.stats.connect_failures[self.kind] += 1
            await asyncio.sleep(0.5)
            return
        started = time.monotonic()
        self.stats.connects[self.kind] += 1
        self.stats.open[self.kind] += 1
        try:
            data = None if self.kind == "idle" else self.data()
            while True:
                if data is not None:
                    byte = next(data, None)
                    if byte is None:
                        data = None
                    else:
                        writer.write(bytes([byte]))
                        await writer.drain()
                try:
                    got = await asyncio.wait_for(reader.read(4096), self.args.interval)
                except asyncio.TimeoutError:
                    continue
                if not got:
                    break  # the server closed it
        except (OSError, ssl.SSLError):
            pass
        finally:
            self.stats.open[self.kind] -= 1
            lifetime = time.monotonic() - started
            self.stats.closed[self.kind] += 1
            self.stats.lifetime_sum[self.kind] += lifetime
            self.stats.lifetime_max[self.kind] = max(self.stats.lifetime_max[self.kind], lifetime)
            writer.close()

    async def run(self):
        while True:
            await self.once()
            if self.args.once:
                return


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--status", required=True)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--once", action="store_true", help="do not reconnect after the server closes")
    for k in KINDS:
        p.add_argument(f"--{k}", type=int, default=0)
    args = p.parse_args()
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE
    stats, hello = Stats(), client_hello()

    def write_status():
        with open(args.status + ".tmp", "w") as f:
            json.dump(stats.as_dict(), f)
        os.replace(args.status + ".tmp", args.status)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = []
    for k in KINDS:
        for _ in range(getattr(args, k)):
            tasks.append(asyncio.create_task(Slot(k, args, stats, hello, tls).run()))
            await asyncio.sleep(0.001)  # a ramp, not a SYN flood
    while not stop.is_set():
        write_status()
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
    write_status()
    # Exit without cancelling: cancellation through asyncio.wait_for can be lost before Python
    # 3.12, and the kernel closes every socket anyway.
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
