# tickshop image: web (ASGI), Celery worker and beat all run from it.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, from the lock file only and checked against its hashes, so code
# changes reuse this layer.
COPY requirements/base.lock requirements/base.lock
RUN pip install --require-hashes -r requirements/base.lock

# The code belongs to root: the runtime user can write only var/ (static files, e-mail files).
RUN useradd --create-home --uid 10001 tickshop
COPY . .
RUN SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
       python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/mail /app/var/metrics && chown -R tickshop:tickshop /app/var

USER tickshop
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=2)"

CMD ["python", "manage.py", "serve"]
