# Denied (rootUser): `toor` is only a name; useradd -o -u 0 gives it uid 0, and the runtime
# starts the process as whatever uid the image's /etc/passwd gives the name.
FROM debian:bookworm-slim
RUN useradd -o -u 0 -s /bin/sh toor
USER toor
