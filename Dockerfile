FROM python:3.11-slim-bookworm
WORKDIR /app
COPY scripts/debian-packages.txt scripts/
RUN apt-get update \
 && grep -v -e '^#' -e '^python3' -e '^postgresql$' -e '^dovecot' -e '^chromium' scripts/debian-packages.txt \
    | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install --no-cache-dir .
RUN useradd --system --home /app intake && mkdir -p /app/var && chown intake /app/var
USER intake
ENV INTAKE_VAR_DIR=/app/var
VOLUME ["/app/var"]
CMD ["intake", "run"]
