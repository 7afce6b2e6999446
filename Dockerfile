# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/stacklens ./cmd/stacklens \
 && mkdir -p /out/data

# scratch: nothing but the static binary and CA certificates (for fetching
# source maps over HTTPS); 65532 is an unprivileged user with no shell.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/stacklens /usr/local/bin/stacklens
COPY --from=build --chown=65532:65532 /out/data /data
ENV STACKLENS_ADDR=0.0.0.0:8000 \
    STACKLENS_DB=/data/stacklens.db
VOLUME ["/data"]
EXPOSE 8000
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/stacklens"]
CMD ["serve"]
