# Local stand-in for python:3.11-slim-bookworm (Debian's python3 is 3.11).
# Differences that the app Dockerfiles must tolerate: python3 lives in /usr/bin,
# not /usr/local/bin, and there is no `python` alias.
ARG DEBIAN_IMAGE=local/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-pip \
 && rm -rf /var/lib/apt/lists/*
ENV PYTHONUNBUFFERED=1
CMD ["python3"]
