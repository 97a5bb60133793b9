#!/usr/bin/env python3
"""Writes the committed seed corpora fuzz/corpus/<target>/ from the repository's fixtures and
examples (AdmissionReview bodies, policies, Dockerfiles, image configs, manifests) plus a few
hand-written registry documents, headers, image references and tiny passwd layer tars.
Deterministic: running it again gives the same files. Usage: fuzz/make_corpus.py"""
import gzip
import io
import json
import pathlib
import tarfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + name)).write_bytes(data)


def admission_review():
    for f in sorted((ROOT / "tests/fixtures/admission").glob("*.json")):
        body = json.loads(f.read_text())["body"]
        write("admission_review_fuzz", f.stem, json.dumps(body, separators=(",", ":")))
    body = json.loads((ROOT / "examples/admission/pod-create-root.json").read_text())
    write("admission_review_fuzz", "pod-create-root", json.dumps(body, separators=(",", ":")))


def policy_parse():
    for f in sorted((ROOT / "examples").rglob("policies/*.yaml")):
        write("policy_parse_fuzz", f.stem, f.read_bytes())
    write("policy_parse_fuzz", "presets", "preset: pss-restricted\nmode: warn\n")
    write("policy_parse_fuzz", "flow", "{preset: pss-baseline, rules: {uidRange: audit},"
          " allowedUIDRanges: [{min: 1, max: 2}], onTimeout: allow}\n")


def image_ref():
    refs = ["nginx", "nginx:1.25", "docker.io/library/nginx:latest", "bitnami/redis:7.2",
            "index.docker.io/nginx:1", "ghcr.io/org/app@" + D1, "ghcr.io/org/app:v1@" + D1,
            "localhost:5000/a/b:tag", "[::1]:5000/x/y", "registry.k8s.io/pause:3.9",
            "quay.io/a/b/c/d:x_y-z.1", "Nginx", "nginx:", "a@sha512:" + "c" * 128]
    for i, r in enumerate(refs):
        write("image_ref_fuzz", str(i), r)


def image_manifest():
    # First byte: the Content-Type index in image_manifest_fuzz.cpp (0 = none, 1 = OCI index,
    # 2 = Docker list, 3 = OCI manifest, 4 = Docker manifest).
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": D1, "size": 500,
                            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "digest": D1, "size": 250},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "digest": D2, "size": 1000}]}
    write("image_manifest_fuzz", "index", b"\x01" + json.dumps(index).encode())
    write("image_manifest_fuzz", "manifest", b"\x00" + json.dumps(manifest).encode())
    write("image_manifest_fuzz", "schema1", b"\x00" + b'{"schemaVersion":1,"fsLayers":[]}')
    for f in sorted((ROOT / "examples/image-configs").glob("*.json")):
        write("image_manifest_fuzz", f.stem, b"\x00" + f.read_bytes())
    write("image_manifest_fuzz", "platform", b"\x00linux/arm/v7")


def www_authenticate():
    headers = ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
               'scope="repository:library/nginx:pull"',
               'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
               "Negotiate YWJjZA==, Basic", 'basic realm="registry", charset="UTF-8"']
    for i, h in enumerate(headers):
        write("www_authenticate_fuzz", str(i), h)


def dockerfile():
    for f in sorted((ROOT / "examples/dockerfiles").rglob("*")):
        if f.is_file():
            write("dockerfile_fuzz", f.parent.name + "-" + f.name if f.parent.name != "dockerfiles"
                  else f.name, f.read_bytes())


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = "../passwd.real"
            elif kind == tarfile.LNKTYPE:
                info.linkname = "./usr/lib/passwd"
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    # Keep committed seeds small: tarfile pads to 10 KiB; keep the entries and the end marker.
    body = buf.getvalue().rstrip(b"\0")
    return body + b"\0" * (-len(body) % 512 + 1024)


def layer_passwd():
    # First byte: 0 plain tar, 1 gzip blob, 2 gzip-compressed by the target, 3 zstd blob, 4
    # zstd-compressed by the target; second: chunk size.
    passwd = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
    layers = {"found": [("etc/", b"", tarfile.DIRTYPE), ("etc/passwd", passwd, tarfile.REGTYPE)],
              "whiteout": [("etc/.wh.passwd", b"", tarfile.REGTYPE)],
              "opaque": [("etc/.wh..wh..opq", b"", tarfile.REGTYPE)],
              "link": [("etc/passwd", b"", tarfile.SYMTYPE)],
              "hardlink": [("usr/lib/passwd", passwd, tarfile.REGTYPE), ("etc/passwd", b"", tarfile.LNKTYPE),
                           ("usr/lib/passwd", b"app:x:0:0::/:\n", tarfile.REGTYPE)],
              "absent": [("usr/bin/true", b"\x7fELF", tarfile.REGTYPE)]}
    for name, entries in layers.items():
        tar = tar_bytes(entries)
        write("layer_passwd_fuzz", name + "-tar", b"\x00\x07" + tar)
        write("layer_passwd_fuzz", name + "-gz", b"\x01\x90" + gzip.compress(tar, mtime=0))
        write("layer_passwd_fuzz", name + "-raw", b"\x02\x3f" + tar)
        write("layer_passwd_fuzz", name + "-zraw", b"\x04\x3f" + tar)
    write("layer_passwd_fuzz", "passwd-only", b"\x00\x00app\n" + passwd)
    # First byte 25: a plain tar read for usr/lib/passwd before entry 1 (a hard link's target
    # as the layer left it when the link was extracted).
    write("layer_passwd_fuzz", "hardlink-target", b"\x19\x07" + tar_bytes(layers["hardlink"]))


def manifest_reader():
    for f in sorted((ROOT / "examples/manifests").glob("*")):
        write("manifest_reader_fuzz", f.name, f.read_bytes())
    for f in sorted((ROOT / "examples/image-configs").glob("*.json")):
        write("manifest_reader_fuzz", f.name, f.read_bytes())
    write("manifest_reader_fuzz", "admission-review.json",
          (ROOT / "examples/admission/pod-create-root.json").read_bytes())
    write("manifest_reader_fuzz", "yaml11.yaml",
          "a: yes\nb: 010\nc: '0'\nd: &x [1, 2]\ne: *x\nf: 1e6\n---\n...\n")


def compose():
    write("compose_fuzz", "example.yaml", (ROOT / "examples/compose/compose.yaml").read_bytes())
    write("compose_fuzz", "merge-extends.yaml",
          b'x-d: &d {user: "0", privileged: "true"}\nservices:\n  a:\n    <<: *d\n'
          b'    build: {context: ., args: [UID]}\n  b:\n    extends: a\n    user: ${UID:-1}\n'
          b'    profiles: [p]\n  c:\n    image: ${IMAGE:?x}\n    userns_mode: host\n'
          b'  d:\n    build: ./app\n    user: !reset null\n')


def http_request():
    # First byte: the body cap in KiB (http_request_fuzz.cpp).
    body = json.loads((ROOT / "tests/fixtures/admission/003-pod-create-no-securitycontext.json").read_text())["body"]
    text = json.dumps(body, separators=(",", ":"))
    api_server = ("POST /validate?timeout=10s HTTP/1.1\r\nHost: rootgate.rootgate.svc:443\r\n"
                  "User-Agent: kube-apiserver-admission\r\nContent-Length: %d\r\n"
                  "Accept: application/json, */*\r\nContent-Type: application/json\r\n"
                  "Accept-Encoding: gzip\r\n\r\n%s" % (len(text), text))
    seeds = {
        "api-server": api_server,
        "pipelined": api_server + api_server,
        "minimal": "POST /validate HTTP/1.1\r\ncontent-length:2\r\n\r\n{}",
        "query": "POST /validate?a=1&timeout=2s&b HTTP/1.1\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
        "chunked": "POST /validate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        "partial": api_server[:200],
    }
    for name, s in seeds.items():
        write("http_request_fuzz", name, bytes([16]) + s.encode())


def main():
    for fn in (admission_review, policy_parse, image_ref, image_manifest, www_authenticate,
               dockerfile, layer_passwd, manifest_reader, compose, http_request):
        fn()


if __name__ == "__main__":
    main()
