# Allowed: `USER app` is a name, created just above by BusyBox adduser without -u, which
# allocates a uid above 0. (Under runAsNonRoot the kubelet still cannot verify a name: prefer
# the numeric UID, e.g. `adduser -D -u 10001 app` and `USER 10001`.)
FROM alpine:3.20
RUN adduser -D app
USER app
CMD ["sh"]
