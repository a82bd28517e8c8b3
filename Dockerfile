# Housing Intake's image: the wheel (code, reply templates, classifier model and rules, migrations, the
# staff app's pages) on Python 3.11, with Tesseract for the letters folder. `intake run` by default;
# docker-compose.yml also runs `intake migrate` and `intake serve` from it. README "Running in production".

# Stage 1: the wheel, built from the context .dockerignore lets through (tests/test_wheel.py builds and
# runs the same wheel outside the repository).
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: what runs.
FROM python:3.11-slim-bookworm
# Tesseract with the languages [letters] ocr_languages may name (eng; eng+cym for a landlord in Wales) and
# the font printed letters use (responders/post.py: DejaVu Sans prints any resident's name).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng tesseract-ocr-cym fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# A user of its own, never root; uid 10001 is what secret files on the host are given to (README).
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/intake --create-home intake
USER intake
WORKDIR /var/lib/intake
ENV INTAKE_VAR_DIR=/var/lib/intake \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/intake"]
EXPOSE 8000
# The worker finishes the item in hand on SIGTERM, releases its leases and exits.
STOPSIGNAL SIGTERM
# No HEALTHCHECK here: the same image runs the worker, the one-shot migration and the web app. The web
# service's check (GET /healthz, which also reports sources the workers have stopped polling) is in
# docker-compose.yml.
CMD ["intake", "run"]
