# syntax=docker/dockerfile:1
# dynamo-migrate as a container image: a release build with the Swift runtime linked in statically, on a
# slim Debian that only adds libcurl (HTTP), zlib (gzip, CRC32) and CA certificates (TLS to AWS).
#   docker build -t dynamo-migrate:0.1.0 .
#   docker run --rm dynamo-migrate:0.1.0 whoami
# The image's user is 10001, not root; the working directory /var/lib/dynamo-migrate is the only place it
# writes (mount a volume there: deploy/kubernetes/job.yaml does, with a read-only root file system).

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# The system-library targets (CCurl, CZlib) need their headers and pkg-config to find them.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libcurl4-openssl-dev zlib1g-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in their own layer: a change to the sources does not fetch them again.
COPY Package.swift Package.resolve[d] ./
RUN swift package resolve
# Every target the manifest declares must exist to load it, tests and benchmarks included.
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product dynamo-migrate --static-swift-stdlib \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/dynamo-migrate" /out/dynamo-migrate

FROM ${RUNTIME_IMAGE} AS runtime
# libcurl4 and zlib1g are the only shared libraries left besides glibc; ca-certificates for TLS.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libcurl4 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 dynamo \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/dynamo-migrate --shell /usr/sbin/nologin dynamo \
    && install -d -m 0700 -o 10001 -g 10001 /var/lib/dynamo-migrate
COPY --from=build /out/dynamo-migrate /usr/local/bin/dynamo-migrate
# Fails the build when a shared library is missing, rather than the first pod.
RUN /usr/local/bin/dynamo-migrate --help >/dev/null
# Numeric, so Kubernetes' runAsNonRoot can check it without a passwd lookup.
USER 10001:10001
WORKDIR /var/lib/dynamo-migrate
ENTRYPOINT ["/usr/local/bin/dynamo-migrate"]
CMD ["--help"]
