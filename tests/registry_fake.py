#!/usr/bin/env python3
"""A small Distribution API v2 registry with faults, for tests/registry_test.sh.

It serves one image (config User from --user) under any repository and tag, and misbehaves as
MODE says:
  ok        plain answers
  bearer    401 with a Bearer challenge whose realm is this server's /token; /token hands out
            a token (anonymous), counted in the log
  basic     401 with a Basic challenge, always
  redirect  blobs answer 307 to --target + digest
  huge      the manifest is 5 MiB
  stall     accepts connections and never answers
Prints the port it listens on (127.0.0.1) on its first line; logs one line per request
("GET /v2/x/manifests/1", "TOKEN") to --log.
"""
import argparse
import hashlib
import http.server
import json
import sys
import threading
import time

TOKEN = "t0k3n-for-tests"


def digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def record(self, line):
        with self.server.log_lock:
            with open(self.server.args.log, "a") as f:
                f.write(line + "\n")

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        a = self.server.args
        if a.mode == "stall":
            time.sleep(3600)
            return
        if self.path.startswith("/token"):
            self.record("TOKEN " + self.path)
            self.send(200, json.dumps({"token": TOKEN, "expires_in": 300}).encode(),
                      {"Content-Type": "application/json"})
            return
        self.record("GET " + self.path)
        if a.mode == "basic":
            self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": 'Basic realm="fake"'})
            return
        if a.mode == "bearer" and self.headers.get("Authorization") != "Bearer " + TOKEN:
            port = self.server.server_address[1]
            challenge = (f'Bearer realm="http://127.0.0.1:{port}/token",service="fake-registry",'
                         f'scope="repository:team/app:pull"')
            self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
            return
        if "/manifests/" in self.path:
            body = self.server.manifest
            self.send(200, body, {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
                                  "Docker-Content-Digest": digest(body)})
        elif "/blobs/" in self.path:
            want = self.path.rsplit("/", 1)[1]
            if a.mode == "redirect":
                self.send(307, b"", {"Location": a.target + want})
            elif want == digest(self.server.config):
                self.send(200, self.server.config, {"Content-Type": "application/octet-stream"})
            else:
                self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        else:
            self.send(200, b"{}", {"Content-Type": "application/json"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["ok", "bearer", "basic", "redirect", "huge", "stall"])
    p.add_argument("--user", default="1000")
    p.add_argument("--target", default="")
    p.add_argument("--log", default="/dev/null")
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.args = args
    server.log_lock = threading.Lock()
    server.config = json.dumps({"architecture": "amd64", "os": "linux",
                                "config": {"User": args.user}}).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": digest(server.config), "size": len(server.config)},
                "layers": []}
    if args.mode == "huge":
        manifest["annotations"] = {"padding": "x" * (5 << 20)}
    server.manifest = json.dumps(manifest).encode()
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
