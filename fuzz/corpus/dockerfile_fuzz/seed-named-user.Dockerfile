# Allowed with a warning (unknownUser): `USER app` is a name; rootgate assumes a name other than
# root is not root, but the kubelet cannot verify it under runAsNonRoot. Use the numeric UID.
FROM alpine:3.20
RUN adduser -D app
USER app
CMD ["sh"]
