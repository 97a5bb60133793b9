#!/usr/bin/env python3
"""Opens COUNT TLS connections one after another to a server that may be full, for
tests/load_slow_clients.sh, and prints one JSON object: how many completed their handshake
(served, kept open until exit) and how many the server closed during it (refused), with the time
from connect to the close (milliseconds: median and longest), and any that hung past --timeout.

usage: refusal_probe.py HOST PORT COUNT [--timeout SECONDS]      (python3 standard library only)
"""
import argparse
import json
import socket
import ssl
import statistics
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--timeout", type=float, default=30)
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    served, refused_ms, hung, kept = 0, [], 0, []
    for _ in range(args.count):
        t = time.monotonic()
        try:
            raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
            kept.append(ctx.wrap_socket(raw, server_hostname="localhost"))
            served += 1
        except (socket.timeout, TimeoutError):
            hung += 1
        except (OSError, ssl.SSLError):
            refused_ms.append((time.monotonic() - t) * 1000)
    print(json.dumps({
        "served": served, "refused": len(refused_ms), "hung": hung,
        "refusal_ms_median": round(statistics.median(refused_ms), 2) if refused_ms else None,
        "refusal_ms_max": round(max(refused_ms), 2) if refused_ms else None}))


if __name__ == "__main__":
    main()
