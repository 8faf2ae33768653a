# Tocsin in a container: `docker build -t tocsin .` then see compose.yml or deploy/kubernetes/.
# Build stage: install Tocsin and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY storage ./storage
COPY runbooks ./runbooks
RUN python -m venv /opt/tocsin \
    && /opt/tocsin/bin/pip install --no-cache-dir .

# Run stage: the slim base, the virtual environment, and a user that is not root.
FROM python:3.11-slim
RUN groupadd --gid 10001 tocsin \
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
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/readyz', timeout=2).status != 200)"]
# Exec form: tocsin is PID 1 and handles SIGTERM itself (finishes work in flight, exits 0).
STOPSIGNAL SIGTERM
CMD ["tocsin", "run"]
