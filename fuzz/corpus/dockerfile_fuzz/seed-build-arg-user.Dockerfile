# Allowed with the defaults: USER comes from an ARG (uid 10001). `--build-arg APP_UID=0`
# makes it root (rootUser), as `docker build --build-arg APP_UID=0` would.
ARG BASE=alpine:3.20
FROM ${BASE} AS runtime
ARG APP_UID=10001
ENV HOME=/home/app \
    APP_USER=${APP_UID}
RUN adduser -D -u "${APP_UID}" app
USER ${APP_USER:-65534}
CMD ["sh"]
