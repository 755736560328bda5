# syntax=docker/dockerfile:1
#
# Counsel's container image: the `counsel` binary on a distroless runtime,
# running as the non-root user 65532. The bundled policies (builtin:NAME)
# are compiled into the binary from the committed components in
# policies/dist/, which this build uses as they are (policies/build.sh
# rebuilds them, outside the image).
#
#   docker build -t ghcr.io/counsel/counsel:0.1.0 .
#
# The Helm chart (charts/counsel) and `counsel install` run it as
# `counsel serve` with a read-only root filesystem. The bundled policies are
# compiled when the image is built, into /usr/share/counsel/compiled, which
# serve reads (COUNSEL_PRECOMPILED_DIR) so that a new pod starts warm; what
# else it compiles goes to an emptyDir they mount at /var/cache/counsel.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin counsel \
 && install -D -m 0755 target/release/counsel /out/counsel \
 && /out/counsel precompile --out /out/compiled

# glibc and libgcc, nothing else: no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="counsel" \
      org.opencontainers.image.description="Kubernetes admission webhook that runs WebAssembly policies and explains every decision" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/counsel /usr/local/bin/counsel
# Owned by root, readable (0555: directories need the x bit) and never
# writable by Counsel, which loads this machine code after checking only
# each entry's digest.
COPY --from=build --chmod=0555 /out/compiled/ /usr/share/counsel/compiled/
ENV COUNSEL_PRECOMPILED_DIR=/usr/share/counsel/compiled
USER 65532:65532
# 8443: the HTTPS webhook; 9090: /healthz, /readyz and /metrics (plain HTTP).
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/counsel"]
CMD ["serve"]
