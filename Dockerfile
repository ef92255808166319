# syntax=docker/dockerfile:1

# Build a static binary: CGO off (SQLite is pure Go), no debug info, no local
# paths in the binary.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /notifyd ./cmd/notifyd
# The final image has no shell to create directories with: make the data
# directory here.
RUN mkdir -p /out/data

# distroless: no shell, no package manager, runs as uid 65532 "nonroot".
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /notifyd /notifyd
# Working directory, writable by nonroot: the default SQLite file
# (database.sqlite_path = "notifyd.db") lands here when NOTIFYD_DATABASE_URL is
# not set, and ./config.toml is read from here when mounted. Mount a volume on
# /data to keep a SQLite database across containers.
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
# 8000: HTTP API and web page (http.addr); 8001: websockets (ws.addr);
# 9464: Prometheus metrics, when metrics.addr is set to ":9464" (its default,
# 127.0.0.1:9464, answers inside the container only).
EXPOSE 8000 8001 9464
USER nonroot:nonroot
# Arguments are passed through: `docker run IMAGE migrate`, `-config PATH`.
ENTRYPOINT ["/notifyd"]
