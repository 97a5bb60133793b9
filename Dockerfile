# rootgate image: build on Debian, ship only the binary, the shared libraries it links, CA
# certificates and a passwd entry for UID 65532. The final stage is FROM scratch: no shell, no
# package manager, nothing to write to, so it runs with readOnlyRootFilesystem.
#
#   buildah bud -t rootgate:dev .          (or: docker build -t rootgate:dev .)
#   --build-arg BUILD_IMAGE=...            any Debian 12 image (tests/image_build_test.sh makes
#                                          one with debootstrap: localhost/debian-base:12)
#   --build-arg RUNTIME_IMAGE=...          the final base; scratch by default (distroless-like).
#                                          Another base gets the files below laid over it,
#                                          including its /etc/passwd and /etc/group.
ARG BUILD_IMAGE=docker.io/library/debian:12
ARG RUNTIME_IMAGE=scratch

FROM ${BUILD_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# The same packages as scripts/deps.sh needs to build (no test tools); ca-certificates is copied
# into the final image for the registry client (TLS to OCI registries).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends \
      g++ cmake make pkg-config ca-certificates \
      libcpp-httplib-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev \
      zlib1g-dev libzstd-dev libbrotli-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DROOTGATE_TESTS=OFF -DROOTGATE_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" --target rootgate \
 && strip /build/rootgate
# Assemble the final root filesystem in /rootfs: the binary, exactly the libraries ldd lists
# (dereferenced, at the paths the dynamic loader searches), the CA bundle, and passwd/group
# entries so tools that map UIDs to names show "nonroot".
RUN set -eu; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp; \
    chmod 1777 /rootfs/tmp; \
    install -m 0755 /build/rootgate /rootfs/rootgate; \
    for lib in $(ldd /build/rootgate | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do \
      mkdir -p "/rootfs$(dirname "$lib")"; \
      cp -L "$lib" "/rootfs$lib"; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group; \
    chroot /rootfs /rootgate version

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="rootgate" \
      org.opencontainers.image.description="Kubernetes admission webhook that denies containers that would run as root"
COPY --from=build /rootfs/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/rootgate", "serve"]
