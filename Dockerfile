FROM python:3.11-slim
# WeasyPrint needs Pango; DejaVu fonts render the agenda PDF without network fonts; with
# HarfBuzz's subsetter WeasyPrint subsets the fonts in C instead of with fontTools (docs/benchmarks.md).
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The runtime requirements only (no test or lint tools), every one pinned with its hashes.
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
# .dockerignore keeps tests/, bench/, scale/ and local state out of the image.
COPY . .
ENV PYTHONUNBUFFERED=1
# Build steps run on settings made for them (config/settings/build.py: production's, with throwaway
# secrets); tests/config/test_dockerfile.py runs these same lines.
RUN DJANGO_SETTINGS_MODULE=config.settings.build python manage.py collectstatic --no-input -v 0
RUN DJANGO_SETTINGS_MODULE=config.settings.build python manage.py check --deploy --fail-level WARNING
ENV DJANGO_SETTINGS_MODULE=config.settings.production
RUN useradd --system --uid 10001 harbor
USER harbor
EXPOSE 8000
CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "2"]
