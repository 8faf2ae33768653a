# Tocsin in a container: `docker build -t tocsin .` then see compose.yml, deploy/kubernetes/ or deploy/helm/tocsin/
# (docs/deploy.md). Multi-arch for a registry: docker buildx build --platform linux/amd64,linux/arm64 \
#   -t registry.example.com/tocsin:0.2.0 --push .   (a `v*` tag does this on GitHub: .github/workflows/release.yml)
# Build stage: install Tocsin and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY storage ./storage
COPY runbooks ./runbooks
RUN python -m venv /opt/tocsin \
    && /opt/tocsin/bin/pip install --no-cache-dir .

# Run stage: the slim base, the virtual environment, and a user that is not root. sqlite3 is there for
# online back-ups of a SQLite database: sqlite3 /data/tocsin.db ".backup /data/tocsin-backup.db".
FROM python:3.11-slim
# Debian's current sqlite3 for the base image's release; pinning its exact version would break every rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --yes --no-install-recommends sqlite3 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 tocsin \
    && useradd --create-home --uid 10001 --gid 10001 tocsin \
    && mkdir /data \
    && chown tocsin:tocsin /data
COPY --from=build /opt/tocsin /opt/tocsin
ENV PATH="/opt/tocsin/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL="sqlite:////data/tocsin.db" \
    HOST=0.0.0.0 \
    PORT=3000
USER 10001:10001
WORKDIR /data
# The SQLite database (the default) lives here; with PostgreSQL nothing is written to it.
VOLUME ["/data"]
EXPOSE 3000
# Ready on whatever PORT the container is given (`docker run -e PORT=8080 …`); a 503 raises, so it fails.
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT') or 3000}/readyz\", timeout=2)"]
# Exec form: tocsin is PID 1 and handles SIGTERM itself (finishes work in flight, exits 0).
STOPSIGNAL SIGTERM
CMD ["tocsin", "run"]
