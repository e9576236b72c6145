# One image for every Tepat service. TEPAT_SERVICE picks the app uvicorn serves:
# registry | verification | disbursement | gateway (services.<TEPAT_SERVICE>.app:create_app, an app factory).
# The same image runs the one-shot steps of docker-compose.yml (`tepat migrate --all`, `python -m shared.bus.admin`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The PDF reports embed DejaVu Sans (shared/pdf/fonts.py finds it at the Debian package's path).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
# demo/ is part of the CLI (`tepat scenario`, `tepat generate-city`).
COPY demo ./demo
# A regular (non-editable) install from pyproject.toml: the code runs from site-packages, so the build folder
# can go and nothing in the image is writable by the service user.
RUN pip install . && rm -rf /build

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/tepat tepat \
    && install -d -o tepat -g tepat /var/lib/tepat /var/lib/tepat/data /var/lib/tepat/data/imports \
        /var/lib/tepat/audit /var/lib/tepat/evidence
# Named volumes mounted on these paths start as copies of them, so they are writable by the service user (a path
# missing from the image would come up owned by root).
# The services' relative data_dir ("data") lands here, the only folder the service user can write.
WORKDIR /var/lib/tepat
USER tepat

EXPOSE 8000
# sh only expands TEPAT_SERVICE; exec hands PID 1 to uvicorn so SIGTERM from `docker stop` drains it gracefully.
# The h11 parser bounds a request head at 64 KiB (4 x the gateway's MAX_HEADER_BYTES, as `tepat serve` does;
# httptools has no such bound): a multi-megabyte header is cut off before it is buffered.
CMD ["sh", "-c", "exec uvicorn --factory \"services.${TEPAT_SERVICE:?set TEPAT_SERVICE to registry, verification, disbursement or gateway}.app:create_app\" --host 0.0.0.0 --port 8000 --timeout-graceful-shutdown 20 --http h11 --h11-max-incomplete-event-size 65536"]
