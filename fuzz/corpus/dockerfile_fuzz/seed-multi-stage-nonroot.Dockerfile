# Allowed: a build stage runs as root, but the final stage sets a numeric non-root USER.
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12 AS final
COPY --from=build /out/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
