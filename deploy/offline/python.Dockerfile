# Stand-in for python:3.11-slim-bookworm, from Debian's own packages (Python 3.11 of bookworm).
FROM catchment-offline/debian:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip python3-venv python-is-python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# Debian marks its Python as externally managed (PEP 668); in an image of one application that is moot.
ENV PIP_BREAK_SYSTEM_PACKAGES=1
