# Allowed: the final stage builds on the `base` stage and inherits its USER 10001
# (FROM <stage> carries the image config, unlike COPY --from).
FROM debian:12-slim AS base
RUN useradd -u 10001 -m app
USER 10001

FROM base AS app
COPY --chown=10001 app /home/app/app
CMD ["/home/app/app"]
