# Denied (rootUser): the final stage switches back to root at the end.
FROM alpine:3.20
RUN adduser -D -u 10001 app
USER app
COPY --chown=app entrypoint.sh /entrypoint.sh
USER root
ENTRYPOINT ["/entrypoint.sh"]
