#!/bin/sh
# Base images for docker-compose.yml built from Debian packages alone, for a machine that reaches
# a Debian mirror but not Docker Hub (an air-gapped site with a mirror, or where Docker Hub is
# blocked). Needs root, debootstrap and docker. Then run the compose file with them:
#   sh deploy/offline/build.sh
#   PYTHON_IMAGE=catchment-offline/python:3.11 POSTGIS_IMAGE=catchment-offline/postgis:15-3 \
#   PROXY_IMAGE=catchment-offline/nginx:bookworm docker-compose up --build
# The host's own certificate authorities (/usr/local/share/ca-certificates/*.crt, e.g. a TLS
# proxy's at the site's egress) go into the images, so pip inside a build trusts what the host does.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if ! docker image inspect catchment-offline/debian:bookworm > /dev/null 2>&1; then
    root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" "$mirror"
    mkdir -p "$root/usr/local/share/ca-certificates"
    for crt in /usr/local/share/ca-certificates/*.crt; do
        [ -f "$crt" ] && cp "$crt" "$root/usr/local/share/ca-certificates/"
    done
    chmod 755 "$root"  # mktemp made it 0700: the image's / would be closed to every user but root
    tar -C "$root" -c . | docker import - catchment-offline/debian:bookworm
    rm -rf "$root"
fi
docker build -t catchment-offline/python:3.11 -f "$here/python.Dockerfile" "$here"
docker build -t catchment-offline/postgis:15-3 -f "$here/postgis.Dockerfile" "$here"
docker build -t catchment-offline/nginx:bookworm -f "$here/nginx.Dockerfile" "$here"
