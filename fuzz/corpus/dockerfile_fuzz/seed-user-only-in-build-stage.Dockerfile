# Denied (rootUser): USER is set in the build stage only. The final stage starts FROM scratch,
# and COPY --from copies files, not the user, so the image runs as root.
FROM golang:1.22 AS build
RUN useradd -u 10001 builder
USER 10001
RUN go build -o /tmp/app .

FROM scratch
COPY --from=build /tmp/app /app
ENTRYPOINT ["/app"]
