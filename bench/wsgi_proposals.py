"""gunicorn entry for `bench/run.py --proposals …`: the app with the proposed fixes of
bench/proposals.py patched in (named by BENCH_PROPOSALS), to measure them before they land."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

import proposals  # noqa: E402

proposals.apply(os.environ.get("BENCH_PROPOSALS", "all"))
