# syntax=docker/dockerfile:1
# Allowed: the heredoc below contains a line "USER root", but it is script text for RUN, not an
# instruction. The final USER is 10001.
FROM alpine:3.20
RUN <<EOT
  set -e
  echo "USER root" > /etc/motd
EOT
COPY <<-'CONF' /etc/app.conf
	user = root
	CONF
USER 10001
