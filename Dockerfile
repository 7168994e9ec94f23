# syntax=docker/dockerfile:1
#
# transfeed container image. Build:
#
#   docker build -t transfeed \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse --short HEAD)" .
#
# Run (see deploy/README.md and compose.yaml):
#
#   docker run -d --name transfeed -p 127.0.0.1:8080:8080 \
#     -v transfeed-data:/data \
#     -v "$PWD/config.yaml:/etc/transfeed/config.yaml:ro" \
#     --env-file .env transfeed
#
# Inside a container the config MUST set
#
#   data_dir: /data                 # the volume; the default ./data would become /data/data
#   server:
#     listen: 0.0.0.0:8080          # the default 127.0.0.1:8080 is unreachable from outside the container
#
# (`listen: ${TRANSFEED_LISTEN:-127.0.0.1:8080}` in the config keeps one file
# usable both in and out of a container, with TRANSFEED_LISTEN=0.0.0.0:8080 set
# in the container.)

ARG GO_VERSION=1.26

# ---- build ----------------------------------------------------------------
FROM golang:${GO_VERSION}-bookworm AS build

WORKDIR /src

# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .

ARG VERSION=dev
ARG COMMIT=unknown
# Pure Go (modernc.org/sqlite, pgx): no cgo, a static binary that runs on
# distroless/static. The Asia/Shanghai zone is embedded (time/tzdata in main).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/transfeed ./cmd/transfeed \
 && mkdir -p /out/data

# ---- runtime --------------------------------------------------------------
# distroless/static: CA certificates, tzdata, /etc/passwd with the "nonroot"
# user (uid/gid 65532); no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot

LABEL org.opencontainers.image.title="transfeed" \
      org.opencontainers.image.description="Chinese government news, machine-translated into English feeds, a reading site and Telegram posts" \
      org.opencontainers.image.source="https://github.com/transfeed/transfeed"

COPY --from=build /out/transfeed /usr/local/bin/transfeed
# /data is created owned by nonroot so that a fresh named volume (which Docker
# fills from the image, ownership included) is writable. A bind mount keeps
# the host directory's owner: chown it to 65532:65532 on the host.
COPY --from=build --chown=65532:65532 /out/data /data

USER 65532:65532
WORKDIR /data
VOLUME /data

# The config is mounted here (read-only is fine: transfeed never writes it).
ENV TRANSFEED_CONFIG=/etc/transfeed/config.yaml

# server.listen must be 0.0.0.0:8080 in the config (see the top of this file).
EXPOSE 8080

# No HEALTHCHECK: distroless has no shell, curl or wget to probe /healthz, and
# transfeed has no self-probe command. Probe GET /healthz from outside
# (orchestrator, reverse proxy, uptime monitor) instead.

# SIGTERM (docker stop) makes `run` finish in-flight work and exit 0; give it
# about 15 s (compose.yaml: stop_grace_period: 15s; docker stop -t 15).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/transfeed"]
CMD ["run"]
