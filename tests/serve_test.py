#!/usr/bin/env python3
"""Runs the real `rootgate serve` over real TLS on random loopback ports, with certificates this
test makes with the openssl CLI, and checks what the issue asks for:

  * every recorded AdmissionReview posted on one keep-alive connection, with the verdict written
    from SEMANTICS.md (not from rootgate's output) and the reply equal to `rootgate review`'s;
  * each bad request (405, 415, 413, 400 x4) answered with a JSON error, the server staying up;
  * mTLS on (no client certificate, or one from another CA: refused; a valid one: served) and off;
  * /healthz, /readyz, /metrics content; one log line per decision, without the request body;
  * certificate rotation by an atomic `..data` symlink swap (as the kubelet does it) while a
    client loops requests: no failed request, the new certificate served afterwards; a
    mismatched pair kept out;
  * policy reload, good (verdict changes) and bad (last good kept, error counted);
  * SIGTERM with requests in flight (all complete, exit 0), the grace period, SIGINT;
  * idle keep-alive connections: served again after idling, no thread each, closed at
    --idle-timeout;
  * the local run: self-signed CA and certificate made once and reused, and the printed curl
    command showing a denial;
  * the fast path (--http-parser rootgate, the default) against the library's parser
    (--http-parser library): the same requests, raw over TLS, get the same reply bytes from both,
    and the fast path counts exactly the requests it is meant to take.

usage: tests/serve_test.py path/to/rootgate     (python3 standard library only)
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from serve_support import (ALLOWED, BIN, DENIED, FIXTURES, ROOT, WORK, Server, check, client_context,
                           connect, der_sha256, failures, fixture, free_port, json_post, make_ca,
                           make_cert, metrics, request, wait_until, write_atomic)
import serve_support

# --- tests -----------------------------------------------------------------------------------

def test_fixtures_keepalive(ca, server_cert):
    # `rootgate review` does no registry lookups, so the replies compared with it need none.
    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1], "--offline")
    print(f"ready {srv.ready_ms:.1f} ms after exec (server's own count: {srv.startup_ms:.1f} ms)")
    conn = connect(srv.port, client_context(ca))
    names = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".json"))
    check("fixture count", len(names) == 16, names)
    sock = None
    for name in names:
        with open(os.path.join(FIXTURES, name)) as f:
            fx = json.load(f)
        body = json.dumps(fx["body"]).encode()
        headers = {k: v for k, v in fx["headers"].items() if k.lower() != "content-length"}
        # The recorded path is the recording webhook's configuration (one used /v1beta1); the
        # query (timeout) is the API server's. rootgate serves /validate.
        query = fx["path"].partition("?")[2]
        status, resp, data = request(conn, fx["method"], "/validate?" + query, body, headers)
        if sock is None:
            sock = conn.sock
        check(f"{name} same connection", conn.sock is sock, "a new connection was opened")
        check(f"{name} status", status == 200, status)
        check(f"{name} content type", resp.getheader("Content-Type", "").startswith("application/json"),
              resp.getheader("Content-Type"))
        reply = json.loads(data)
        prefix = name[:3]
        want = prefix in ALLOWED
        check(f"{name} known", prefix in ALLOWED | DENIED, prefix)
        check(f"{name} allowed", reply["response"]["allowed"] == want, reply["response"])
        check(f"{name} uid", reply["response"]["uid"] == fx["body"]["request"]["uid"])
        check(f"{name} apiVersion", reply["apiVersion"] == fx["body"]["apiVersion"], reply["apiVersion"])
        check(f"{name} kind", reply["kind"] == "AdmissionReview")
        if not want:
            check(f"{name} status 403", reply["response"]["status"]["code"] == 403)
        review = subprocess.run([BIN, "review", "-"], input=body, capture_output=True)
        check(f"{name} same as review", json.loads(review.stdout) == reply, review.stderr)

    second = subprocess.run([BIN, "serve", "--listen", f"127.0.0.1:{srv.port}", "--tls-cert", server_cert[0],
                             "--tls-key", server_cert[1]], capture_output=True, timeout=10)
    check("a port in use is an error (exit 1)", second.returncode == 1 and b"cannot listen" in second.stderr,
          (second.returncode, second.stderr[-300:]))

    # Decision lines are written in batches under load: the last may come up to a second later.
    deadline = time.monotonic() + 3
    while True:
        lines = [l for l in srv.lines() if l.get("msg") == "admission decision"]
        if len(lines) >= 16 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check("one log line per decision", len(lines) == 16, len(lines))
    want_fields = {"uid", "kind", "namespace", "name", "operation", "user", "decision", "rules", "duration_ms"}
    check("log fields", all(want_fields <= set(l) for l in lines), lines[:1])
    check("log decisions", sorted(l["decision"] for l in lines).count("deny") == len(DENIED),
          [l["decision"] for l in lines])
    log_text = open(srv.log_path).read()
    check("no body in logs", "managedFields" not in log_text and "nginx:1.25" not in log_text)
    return srv, conn


def test_bad_requests(srv, conn):
    pod = json.dumps(fixture("003")["body"]).encode()
    cases = [
        ("GET", "/validate", None, None, 405),
        ("PUT", "/validate", pod, "application/json", 405),
        ("POST", "/validate", pod, "text/plain", 415),
        ("POST", "/validate", b"x" * (9 << 20), "application/json", 413),
        ("POST", "/validate", b"", "application/json", 400),
        ("POST", "/validate", pod[:len(pod) // 2], "application/json", 400),
        ("POST", "/validate", b"{not json", "application/json", 400),
        ("POST", "/validate", b'{"kind":"Pod","apiVersion":"v1"}', "application/json", 400),
        ("POST", "/validate", b'{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}}',
         "application/json", 400),
    ]
    for method, path, body, ctype, want in cases:
        name = f"{method} {ctype} {len(body or b'')} bytes"
        status, resp, data = request(conn, method, path, body, {"Content-Type": ctype} if ctype else {})
        check(f"{name}: status", status == want, f"{status} != {want}")
        try:
            err = json.loads(data)
            check(f"{name}: JSON error", isinstance(err.get("error"), str) and err["error"], data[:200])
        except json.JSONDecodeError:
            check(f"{name}: JSON error", False, data[:200])
        if want == 405:
            check(f"{name}: Allow", resp.getheader("Allow") == "POST", resp.getheader("Allow"))
    status, _, data = json_post(conn, pod)
    check("still serving after bad requests", status == 200 and not json.loads(data)["response"]["allowed"])
    check("process alive", srv.proc.poll() is None)


def test_health_and_metrics(srv, conn):
    status, _, data = request(conn, "GET", "/healthz")
    check("healthz", status == 200 and data.strip() == b"ok", (status, data))
    status, _, data = request(conn, "GET", "/readyz")
    check("readyz", status == 200 and data.strip() == b"ok", (status, data))
    status, text, v = metrics(conn)
    check("metrics status", status == 200)
    for name in ["rootgate_admission_requests_total", "rootgate_admission_violations_total",
                 "rootgate_admission_decision_duration_seconds", "rootgate_http_requests_total",
                 "rootgate_inflight_requests", "rootgate_policy_reloads_total",
                 "rootgate_certificate_reloads_total", "rootgate_build_info",
                 "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
                 "process_start_time_seconds"]:
        check(f"metric {name} documented", f"# TYPE {name} " in text, name)
    decisions = sum(val for k, val in v.items() if k.startswith("rootgate_admission_requests_total{"))
    check("decisions counted", decisions == 17, decisions)  # 16 fixtures + 1 after the bad requests
    check("denials of Pod CREATE",
          v.get('rootgate_admission_requests_total{decision="deny",kind="Pod",operation="CREATE"}') == 3,
          {k: x for k, x in v.items() if "requests_total" in k})
    check("privileged violations", v.get('rootgate_admission_violations_total{rule="privileged"}') == 2)
    check("histogram count", v.get("rootgate_admission_decision_duration_seconds_count") == 17)
    for code, n in (("405", 2), ("415", 1), ("413", 1), ("400", 5)):
        check(f"http {code} counted", v.get(f'rootgate_http_requests_total{{code="{code}"}}') == n,
              v.get(f'rootgate_http_requests_total{{code="{code}"}}'))
    check("inflight", v.get("rootgate_inflight_requests") == 0)
    check("rss plausible", 1 << 20 < v.get("process_resident_memory_bytes", 0) < 256 << 20)
    check("start time", abs(v.get("process_start_time_seconds", 0) - time.time()) < 120)
    check("build info", any(k.startswith("rootgate_build_info{version=") for k in v))


def test_mtls(ca, server_cert):
    client_ca = make_ca("client-ca")
    good = make_cert("client", client_ca, 7, usage="clientAuth")
    rogue_ca = make_ca("rogue-ca")
    rogue = make_cert("rogue", rogue_ca, 8, usage="clientAuth")
    health_port = free_port()
    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1], "--client-ca", client_ca[0],
                 "--health-listen", f"127.0.0.1:{health_port}")
    pod = json.dumps(fixture("003")["body"]).encode()
    plain = http.client.HTTPConnection("127.0.0.1", health_port, timeout=10)
    status, _, data = request(plain, "GET", "/readyz")
    check("health listener: readyz without a client certificate", status == 200, (status, data))
    status, _, data = request(plain, "GET", "/metrics")
    check("health listener: metrics", status == 200 and b"rootgate_build_info" in data)
    status, _, _ = request(plain, "POST", "/validate", pod, {"Content-Type": "application/json"})
    check("health listener: no /validate over plain HTTP", status == 404, status)
    plain.close()
    for name, cert in (("no client certificate", None), ("client certificate from another CA", rogue)):
        try:
            status, _, _ = json_post(connect(srv.port, client_context(ca, cert)), pod)
            check(f"mTLS refuses {name}", False, f"got HTTP {status}")
        except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError):
            check(f"mTLS refuses {name}", True)
    conn = connect(srv.port, client_context(ca, good))
    status, _, data = json_post(conn, pod)
    check("mTLS serves a valid client certificate", status == 200 and "response" in json.loads(data))
    status, _, data = json_post(conn, pod)
    check("mTLS keep-alive", status == 200)
    conn.close()
    check("mTLS stop", srv.stop() == 0)
    # mTLS off (the servers of the other tests): a client certificate is neither needed nor refused.
    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1])
    status, _, _ = json_post(connect(srv.port, client_context(ca, good)), pod)
    check("mTLS off accepts a client that presents a certificate", status == 200)
    srv.stop()


def kubelet_mount(mount, version, cert):
    """Writes cert/key as the kubelet lays out a Secret volume: mount/tls.crt -> ..data/tls.crt,
    ..data -> ..<version>; a new version is published by renaming a new ..data symlink over the
    old one (one atomic step for both files)."""
    d = os.path.join(mount, f"..{version}")
    os.makedirs(d)
    shutil.copy(cert[0], os.path.join(d, "tls.crt"))
    shutil.copy(cert[1], os.path.join(d, "tls.key"))
    os.symlink(f"..{version}", os.path.join(mount, "..data_tmp"))
    os.replace(os.path.join(mount, "..data_tmp"), os.path.join(mount, "..data"))
    for f in ("tls.crt", "tls.key"):
        if not os.path.islink(os.path.join(mount, f)):
            os.symlink(f"..data/{f}", os.path.join(mount, f))


def test_certificate_rotation(ca, cert_a, cert_b):
    mount = f"{WORK}/secret"
    os.makedirs(mount)
    kubelet_mount(mount, "v1", cert_a)
    srv = Server("--tls-cert", f"{mount}/tls.crt", "--tls-key", f"{mount}/tls.key",
                 "--reload-interval", "100ms", "--log-level", "warn", quiet=True)
    ctx = client_context(ca)
    pod = json.dumps(fixture("003")["body"]).encode()
    fp_a, fp_b = der_sha256(cert_a[0]), der_sha256(cert_b[0])
    stats = {"ok": 0, "failed": 0, "errors": [], "served": set()}
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            conn = connect(srv.port, ctx)
            try:
                for _ in range(3):  # a few requests per connection, then a new handshake
                    status, _, data = json_post(conn, pod)
                    if status == 200 and json.loads(data)["response"]["allowed"] is False:
                        stats["ok"] += 1
                    else:
                        stats["failed"] += 1
                stats["served"].add(hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest())
            except Exception as e:  # noqa: BLE001 - every failure counts
                stats["failed"] += 1
                stats["errors"].append(repr(e))
            finally:
                conn.close()

    clients = [threading.Thread(target=loop) for _ in range(2)]
    for t in clients:
        t.start()
    time.sleep(0.5)
    kubelet_mount(mount, "v2", cert_b)
    check("new certificate served to new connections", wait_until(lambda: fp_b in stats["served"]),
          stats["served"])
    time.sleep(0.3)
    # A half-published pair (new certificate, old key) must not replace the good one.
    bad = f"{WORK}/bad-pair"
    os.makedirs(bad)
    shutil.copy(cert_a[0], f"{bad}/c")
    shutil.copy(cert_b[1], f"{bad}/k")
    kubelet_mount(mount, "v3", (f"{bad}/c", f"{bad}/k"))
    time.sleep(0.5)
    stop.set()
    for t in clients:
        t.join()
    check("rotation: no failed request", stats["failed"] == 0, stats["errors"][:3])
    check("rotation: requests made", stats["ok"] > 30, stats["ok"])
    check("rotation: old certificate served before", fp_a in stats["served"])
    conn = connect(srv.port, ctx)
    _, _, v = metrics(conn)
    check("rotation: served after the bad pair is still the new one",
          hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest() == fp_b)
    check("certificate reload success counted", v.get('rootgate_certificate_reloads_total{result="success"}') == 1,
          v.get('rootgate_certificate_reloads_total{result="success"}'))
    check("certificate reload error counted", v.get('rootgate_certificate_reloads_total{result="error"}') == 1,
          v.get('rootgate_certificate_reloads_total{result="error"}'))
    conn.close()
    errors = [l for l in srv.lines() if l.get("msg", "").startswith("certificate reload failed")]
    check("certificate reload error logged", errors and "does not match" in errors[0].get("error", ""), errors)
    check("rotation stop", srv.stop() == 0)


def test_policy_reload(ca, server_cert):
    policy = f"{WORK}/policy.yaml"
    write_atomic(policy, "preset: default\nmode: enforce\n")
    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1], "--policy", policy,
                 "--reload-interval", "100ms")
    conn = connect(srv.port, client_context(ca))
    pod = json.dumps(fixture("003")["body"]).encode()

    def allowed():
        return json.loads(json_post(conn, pod)[2])["response"]

    check("policy enforce denies", allowed()["allowed"] is False)
    write_atomic(policy, "preset: default\nmode: warn\n")
    check("good policy reload: warn allows", wait_until(lambda: allowed()["allowed"] is True))
    check("warn mode warns", "warnings" in allowed())
    write_atomic(policy, "preset: default\nmode: warn\nrules:\n  notARule: deny\n")
    check("bad policy counted", wait_until(
        lambda: metrics(conn)[2].get('rootgate_policy_reloads_total{result="error"}') == 1))
    check("bad policy: last good kept", allowed()["allowed"] is True)
    v = metrics(conn)[2]
    check("good policy counted", v.get('rootgate_policy_reloads_total{result="success"}') == 1)
    errors = [l for l in srv.lines() if l.get("msg", "").startswith("policy reload failed")]
    check("bad policy logged with line and field",
          errors and re.search(r"line \d+", errors[0]["error"]) and "notARule" in errors[0]["error"], errors)
    conn.close()
    check("policy stop", srv.stop() == 0)


def send_partial(port, ctx, body, split):
    """A raw TLS connection with the request headers and the first `split` bytes of the body."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    head = (f"POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    s.sendall(head + body[:split])
    return s


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(head.split()[1]), rest


def test_sigterm_in_flight(ca, server_cert):
    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1])
    ctx = client_context(ca)
    bodies = [json.dumps(fixture(p)["body"]).encode() for p in ("003", "005", "011")]
    partial = [send_partial(srv.port, ctx, b, len(b) // 2) for b in bodies]
    time.sleep(0.2)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        check("stops accepting after SIGTERM", False, "a new connection was accepted")
    except OSError:
        check("stops accepting after SIGTERM", True)
    results = []
    for s, b in zip(partial, bodies):
        s.sendall(b[len(b) // 2:])
        status, data = read_response(s)
        results.append((status, json.loads(data)["response"]["uid"] == json.loads(b)["request"]["uid"]))
        s.close()
    check("in-flight requests complete", results == [(200, True)] * 3, results)
    code = srv.proc.wait(30)
    check("SIGTERM exit 0", code == 0, code)
    check("SIGTERM exits promptly", time.monotonic() - t0 < 10, time.monotonic() - t0)
    msgs = [l.get("msg") for l in srv.lines()]
    check("shutdown logged", "shut down cleanly" in msgs, msgs[-3:])

    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1])
    conn = connect(srv.port, ctx)
    json_post(conn, bodies[0])  # idle keep-alive: closed by the server within its 5 s idle timeout
    t0 = time.monotonic()
    check("SIGINT exit 0", srv.stop(signal.SIGINT) == 0)
    check("idle keep-alive connection closed within 5 s of shutdown", time.monotonic() - t0 < 6.5,
          time.monotonic() - t0)
    conn.close()

    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1], "--grace-period", "500ms")
    stuck = send_partial(srv.port, ctx, bodies[0], 10)  # never finishes its body
    time.sleep(0.2)
    t0 = time.monotonic()
    code = srv.stop()
    check("grace period over: exit 1", code == 1, code)
    check("grace period respected", 0.4 < time.monotonic() - t0 < 3, time.monotonic() - t0)
    check("grace period logged", any(l.get("msg", "").startswith("grace period over") for l in srv.lines()))
    stuck.close()


def test_idle_keepalive(ca, server_cert):
    # Idle keep-alive connections wait in one epoll set, holding no thread (issue 16): each is
    # still served on the same connection after it went idle, counted open while idle, and
    # closed by the server at --idle-timeout.
    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1], "--offline",
                 "--idle-timeout", "4s", "--threads", "4")
    ctx = client_context(ca)
    body = json.dumps(fixture("003")["body"]).encode()
    uid = fixture("003")["body"]["request"]["uid"]
    conns = [connect(srv.port, ctx) for _ in range(20)]
    for c in conns:
        status, _, _ = json_post(c, body)
        check("idle: first request", status == 200, status)
        time.sleep(0.06)  # past the 50 ms a thread waits for the next request: its thread is free
    socks = [c.sock for c in conns]
    time.sleep(0.5)  # well past the 50 ms a thread waits for the next request
    probe = connect(srv.port, ctx)
    _, _, values = metrics(probe)
    check("idle: idle connections counted open", values.get("rootgate_open_connections", 0) >= 21,
          values.get("rootgate_open_connections"))
    # 20 idle connections and few threads (a thread per connection would be 20 or more).
    check("idle: no thread per idle connection", values.get("rootgate_worker_threads", 99) <= 10,
          values.get("rootgate_worker_threads"))
    for c, sock in zip(conns, socks):
        status, _, data = json_post(c, body)
        check("idle: served after idling, same connection",
              status == 200 and c.sock is sock and json.loads(data)["response"]["uid"] == uid, status)
    probe.close()
    time.sleep(5)  # past --idle-timeout 4s
    closed = 0
    for c in conns:
        c.sock.settimeout(2)
        try:
            closed += c.sock.recv(1) == b""
        except (OSError, ssl.SSLError):
            closed += 1
        c.close()
    check("idle: closed by the server at --idle-timeout", closed == len(conns), closed)
    conn = connect(srv.port, ctx)
    _, _, values = metrics(conn)
    check("idle: none left open", values.get("rootgate_open_connections") == 1,
          values.get("rootgate_open_connections"))
    conn.close()
    check("idle: exit 0", srv.stop() == 0)


def test_local_run():
    state = f"{WORK}/state"
    srv = Server("--state-dir", state)
    out = srv.stdout()
    ca = f"{state}/ca.crt"
    check("local run: CA printed", ca in out and "made now" in out, out)
    m = re.search(r"(curl --cacert .*?\\\n.*?'https://[^']+')", out, re.S)
    check("local run: curl command printed", m is not None, out)
    if m:
        cmd = m.group(1).replace("\\\n", " ")
        res = subprocess.run(["bash", "-c", cmd], capture_output=True, cwd=ROOT)
        try:
            reply = json.loads(res.stdout)
            check("local run: the printed curl shows a denial", reply["response"]["allowed"] is False, reply)
        except json.JSONDecodeError:
            check("local run: the printed curl shows a denial", False, (res.stdout, res.stderr))
    fp = der_sha256(f"{state}/tls.crt")
    srv.stop()
    srv = Server("--state-dir", state)
    check("local run: certificates reused", "reused" in srv.stdout() and der_sha256(f"{state}/tls.crt") == fp)
    conn = connect(srv.port, client_context(ca))
    status, _, _ = request(conn, "GET", "/readyz")
    check("local run: ready", status == 200)
    conn.close()
    srv.stop()


def test_quiet_with_certificates(server_cert):
    srv = Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1], "--log-level", "warn", quiet=True)
    conn = connect(srv.port, client_context(f"{WORK}/ca.crt"))
    json_post(conn, json.dumps(fixture("003")["body"]).encode())
    conn.close()
    srv.stop()
    check("nothing on stdout with certificates given", srv.stdout() == "", srv.stdout())
    check("no per-request logs at warn", all(l.get("level") not in ("info", "debug") for l in srv.lines()),
          srv.lines()[:3])


def exchange(port, ctx, parts, replies, pause=0.0):
    """One TLS connection: sends each of `parts` (bytes), `pause` seconds apart, then reads until
    `replies` complete replies (by Content-Length) have arrived or the server closes. Returns
    every byte received."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    for i, part in enumerate(parts):
        if i and pause:
            time.sleep(pause)
        s.sendall(part)
    data, done = b"", 0
    s.settimeout(5)
    while done < replies:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ssl.SSLError, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
        done, rest = 0, data
        while b"\r\n\r\n" in rest:
            head, _, rest = rest.partition(b"\r\n\r\n")
            m = re.search(rb"Content-Length: (\d+)", head, re.I)
            length = int(m.group(1)) if m else 0
            if len(rest) < length:
                break
            rest = rest[length:]
            done += 1
    s.close()
    return data


def test_http_parsers(ca, server_cert):
    """The same raw requests to a server with the fast path and one without: the same bytes back."""
    body = json.dumps(fixture("003")["body"]).encode()
    big = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                      "pad": "x" * 70000}).encode()

    def post(b=body, target="/validate?timeout=10s", version="HTTP/1.1", extra=(), ctype="application/json"):
        head = [f"POST {target} {version}", "Host: rootgate.rootgate.svc:443",
                "User-Agent: kube-apiserver-admission", f"Content-Length: {len(b)}",
                "Accept: application/json, */*", f"Content-Type: {ctype}", "Accept-Encoding: gzip", *extra]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + b

    chunked = (b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n0\r\n\r\n")
    # (what, parts, replies expected, requests the fast path takes, pause between parts)
    cases = [
        ("the API server's request", [post()], 1, 1, 0),
        ("two requests one after the other", [post(), post()], 2, 2, 0.2),
        ("two requests pipelined in one write", [post() + post()], 2, 2, 0),
        ("Connection: close", [post(extra=["Connection: close"])], 1, 0, 0),
        ("415", [post(ctype="text/plain")], 1, 1, 0),
        ("400 invalid JSON", [post(b=b"{x")], 1, 1, 0),
        ("400 empty body", [post(b=b"")], 1, 1, 0),
        ("percent-encoded timeout", [post(target="/validate?timeout=10%73")], 1, 0, 0),
        ("chunked body", [chunked], 1, 0, 0),
        ("HTTP/1.0", [post(version="HTTP/1.0")], 1, 0, 0),
        ("413 over --max-body", [post(b=big)], 1, 0, 0),
        ("GET /validate (405)", [b"GET /validate HTTP/1.1\r\nHost: x\r\n\r\n"], 1, 0, 0),
        ("GET /healthz", [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"], 1, 0, 0),
        ("headers, then the body 0.2 s later (as the API server's Go client writes them)",
         [post()[:-len(body)], body], 1, 1, 0.2),
        ("half the headers, then the rest", [post()[:60], post()[60:]], 1, 0, 0.2),
        ("headers and half the body, then the connection closes", [post()[:-100]], 0, 0, 0),
        ("Expect: 100-continue", [post(extra=["Expect: 100-continue"])], 1, 0, 0),
        ("lower-case names, no space after the colon, spaces before a value",
         [b"POST /validate?timeout=10s HTTP/1.1\r\nhost:x\r\ncontent-type:   application/json\r\n"
          b"content-length:" + str(len(body)).encode() + b"\r\n\r\n" + body], 1, 1, 0),
        ("a query of several parameters", [post(target="/validate?a=1&timeout=5s&b")], 1, 1, 0),
        ("a fast request, then one for the library, then a fast one",
         [post() + post(target="/validate?timeout=1%30s") + post()], 3, 2, 0),
    ]
    ctx = client_context(ca)
    servers = {p: Server("--tls-cert", server_cert[0], "--tls-key", server_cert[1], "--max-body", "64Ki",
                         "--http-parser", p) for p in ("rootgate", "library")}
    expected_fast = 0
    for what, parts, replies, fast, pause in cases:
        got = {p: exchange(srv.port, ctx, parts, replies, pause) for p, srv in servers.items()}
        if replies:
            check(f"http parsers: {what}: a reply", got["rootgate"].startswith(b"HTTP/1.1 "), got["rootgate"][:80])
        check(f"http parsers: {what}: the same bytes", got["rootgate"] == got["library"],
              f"\nrootgate: {got['rootgate'][:300]!r}\nlibrary:  {got['library'][:300]!r}")
        expected_fast += fast
    for p, srv in servers.items():
        conn = connect(srv.port, ctx)
        _, _, values = metrics(conn)
        conn.close()
        want = expected_fast if p == "rootgate" else 0
        check(f"http parsers: {p}: fast-path requests counted",
              values.get("rootgate_http_fast_path_requests_total") == want,
              f"{values.get('rootgate_http_fast_path_requests_total')} != {want}")
        check(f"http parsers: {p} stops", srv.stop() == 0)
    bad = subprocess.run([BIN, "serve", "--http-parser", "fast"], capture_output=True, text=True, timeout=10)
    check("http parsers: a bad --http-parser is refused", bad.returncode == 2 and
          "--http-parser" in bad.stderr and "rootgate or library" in bad.stderr, bad.stderr)


def main():
    ca = make_ca("ca")
    cert_a = make_cert("server-a", ca, 1001)
    cert_b = make_cert("server-b", ca, 2002)
    try:
        t0 = time.monotonic()
        srv, conn = test_fixtures_keepalive(ca[0], cert_a)
        test_bad_requests(srv, conn)
        test_health_and_metrics(srv, conn)
        conn.close()  # else an idle keep-alive connection stays open until it times out (5 s)
        check("first server exit 0", srv.stop() == 0)
        for test, args in ((test_mtls, (ca[0], cert_a)),
                           (test_certificate_rotation, (ca[0], cert_a, cert_b)),
                           (test_policy_reload, (ca[0], cert_a)),
                           (test_sigterm_in_flight, (ca[0], cert_a)),
                           (test_idle_keepalive, (ca[0], cert_a)),
                           (test_local_run, ()),
                           (test_http_parsers, (ca[0], cert_a)),
                           (test_quiet_with_certificates, (cert_a,))):
            print(f"{time.monotonic() - t0:6.2f}s {test.__name__}")
            test(*args)
    finally:
        for p in subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout.split():
            os.kill(int(p), signal.SIGKILL)
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"serve_test: {serve_support.passes} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
