# Stand-in for postgis/postgis:15-3.4: PostgreSQL 15 and PostGIS 3 from Debian bookworm, with an
# entrypoint that honours the same POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB variables.
FROM catchment-offline/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-15-postgis-3 \
 && rm -rf /var/lib/apt/lists/*
COPY postgis-entrypoint.sh /usr/local/bin/postgis-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["sh", "/usr/local/bin/postgis-entrypoint.sh"]
