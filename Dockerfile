FROM python:3.11-slim
# WeasyPrint needs Pango; DejaVu fonts render the agenda PDF without network fonts.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV DJANGO_SETTINGS_MODULE=config.settings.production PYTHONUNBUFFERED=1
RUN SECRET_KEY=build-only HARBOR_FIELD_KEYS=build-only HARBOR_BLIND_INDEX_KEY=build-only ALLOWED_HOSTS=build \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --no-input -v 0
RUN useradd --system --uid 10001 harbor
USER harbor
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "2"]
