# The mint binary in a minimal image: built static in a Go image, run as a non-root user in a
# distroless one (no shell, no package manager). One image for every service, mint db and the tools:
#   docker build -t mint .
#   docker run mint serve auth …
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so a change of code alone reuses their layer. The FerretDB module is vendored
# (a go.mod replace), so it comes with them.
COPY go.mod go.sum ./
COPY third_party ./third_party
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/mint-wallet/mint/internal/cli.Version=${VERSION}" \
      -o /out/mint ./cmd/mint
# The state directory (the auth key set in compose): a named volume mounted here starts owned by the
# user the services run as.
RUN mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mint /usr/local/bin/mint
COPY --from=build --chown=65532:65532 /out/state /var/lib/mint
USER nonroot:nonroot
# mint serve listens on every interface, on the service's port (auth 4001, notifications 4002,
# wallet 4003, transactions 4004); mint db on 27017 with /ready on 27018.
EXPOSE 4001 4002 4003 4004 27017 27018
# The health check asks MINT_PROBE_URL, which each container sets to its own /health.
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/mint", "probe"]
ENTRYPOINT ["/usr/local/bin/mint"]
CMD ["help"]
