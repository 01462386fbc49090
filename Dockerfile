# Catchment service image: `catchment serve` (uvicorn) as a non-root user.
# PYTHON_IMAGE: another base with Python 3.11 and pip (deploy/offline/build.sh makes one from
# Debian packages where Docker Hub cannot be reached).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CATCHMENT_DATABASE_URL=sqlite:////app/var/catchment.db \
    CATCHMENT_SAMPLE_LOAD=true \
    CATCHMENT_SAMPLE_DIR=/app/data/boundaries

WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo ./geo
COPY maps ./maps
COPY service ./service
COPY data ./data
RUN pip install . \
 && useradd --create-home --uid 10001 catchment \
 && mkdir -p /app/var/jobs && chown -R catchment /app/var

USER catchment
# Single-host mode: the SQLite database (which holds the street networks and address points too)
# and job files live here; a named volume keeps them when the container is replaced:
#   docker run -p 8000:8000 -v catchment-var:/app/var catchment
# With PostGIS (docker-compose.yml) the API keeps nothing here but job files.
VOLUME /app/var
EXPOSE 8000
# The first start loads the bundled sample (16 s measured on a shared 2-CPU machine, longer when busier):
# failures during the start period do not count.
HEALTHCHECK --interval=30s --timeout=3s --start-period=120s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["catchment", "serve", "--host", "0.0.0.0", "--port", "8000"]
