"""Support for tests/serve_test.py: certificates made with the openssl CLI, the `rootgate serve`
process under test, and small HTTPS client helpers. python3 standard library only."""
import gzip
import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "admission")
WORK = tempfile.mkdtemp(prefix="rootgate-serve-test-")

# SEMANTICS.md, default preset, no image facts (the issue lists the same split).
DENIED = {"000", "001", "002", "003", "006", "007", "011", "012", "013"}
ALLOWED = {"004", "005", "008", "009", "010", "014", "015"}

failures = []
passes = 0


def check(name, cond, detail=""):
    global passes
    if cond:
        passes += 1
    else:
        failures.append(f"{name}: {detail}")
        print(f"FAIL: {name}: {detail}", file=sys.stderr)


# --- certificates ----------------------------------------------------------------------------

def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(name):
    key, crt = f"{WORK}/{name}.key", f"{WORK}/{name}.crt"
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl("req", "-x509", "-new", "-key", key, "-subj", f"/CN={name}", "-days", "2", "-out", crt,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    return crt, key


def make_cert(name, ca, serial, usage="serverAuth"):
    key, csr, crt, ext = (f"{WORK}/{name}.{x}" for x in ("key", "csr", "crt", "ext"))
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage={usage}\n")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    openssl("req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-set_serial", str(serial),
            "-days", "2", "-extfile", ext, "-out", crt)
    return crt, key


def der_sha256(pem_path):
    with open(pem_path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


# --- the server under test -------------------------------------------------------------------

class Server:
    count = 0

    def __init__(self, *args, cwd=ROOT, env=None, quiet=False):
        """quiet: below info level the "listening" line is not logged, so the port is chosen
        here and readiness is a successful TCP connect."""
        Server.count += 1
        self.log_path = f"{WORK}/server{Server.count}.log"
        self.out_path = f"{WORK}/server{Server.count}.out"
        self.log = open(self.log_path, "w")
        self.out = open(self.out_path, "w")
        fixed_port = free_port() if quiet else 0
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", f"127.0.0.1:{fixed_port}", "--log-format", "json", *args],
            stdout=self.out, stderr=self.log, cwd=cwd, env=env)
        self.port = None
        while time.monotonic() - started < 10 and self.proc.poll() is None:
            if quiet:
                try:
                    socket.create_connection(("127.0.0.1", fixed_port), timeout=1).close()
                    self.port = fixed_port
                except OSError:
                    pass
            for line in [] if quiet else self.lines():
                if line.get("msg") == "listening":
                    self.port = int(line["address"].rsplit(":", 1)[1])
                    self.startup_ms = line["startup_ms"]
            if self.port:
                break
            time.sleep(0.002)
        self.ready_ms = (time.monotonic() - started) * 1000
        if not self.port:
            raise RuntimeError(f"server did not start: {open(self.log_path).read()}")

    def lines(self):
        out = []
        with open(self.log_path) as f:
            for raw in f:
                try:
                    out.append(json.loads(raw))
                except json.JSONDecodeError:
                    out.append({"unparsed": raw})
        return out

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return "timeout"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_context(ca, cert=None):
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(*cert)
    return ctx


def connect(port, ctx):
    return http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)


def request(conn, method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    if r.getheader("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return r.status, r, data


def json_post(conn, body, path="/validate?timeout=10s"):
    return request(conn, "POST", path, body, {"Content-Type": "application/json"})


def fixture(prefix):
    name = next(n for n in sorted(os.listdir(FIXTURES)) if n.startswith(prefix))
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def metrics(conn):
    status, _, data = request(conn, "GET", "/metrics")
    values = {}
    for line in data.decode().splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            values[series] = float(value)
    return status, data.decode(), values


def wait_until(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
