# One image for web (gunicorn), Celery worker, Celery beat and the one-shot init step.
# docker-compose.yml picks the role through `command`; the default is the web server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # gunicorn reads its flags from here, so compose or `docker run -e` can tune workers without
    # rewriting the command. /dev/shm keeps worker heartbeats off the container's overlay disk.
    # No --access-logfile: the app logs one JSON line per request (`aisle.request`, with its id).
    GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --workers 3 --timeout 30 --worker-tmp-dir /dev/shm"

WORKDIR /app

# An unprivileged user runs every process; the code stays owned by root so it cannot rewrite itself.
RUN groupadd --system --gid 10001 aisle \
    && useradd --system --uid 10001 --gid aisle --home-dir /app --no-create-home --shell /usr/sbin/nologin aisle

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are collected into the image with the production storage (compressed copies for
# WhiteNoise). Production settings demand a real-looking key and host list: these two exist for
# this build step only and are never present at runtime.
RUN AISLE_ENV=production \
    DJANGO_SECRET_KEY=collectstatic-build-step-only-not-a-runtime-secret-0123456789 \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput --verbosity 0

USER aisle

EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application"]
