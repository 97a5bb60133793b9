# Denied (rootUser): an image built FROM scratch with no USER runs as uid 0.
FROM scratch
COPY app /app
ENTRYPOINT ["/app"]
