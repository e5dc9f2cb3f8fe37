"""The embedded default's settings (config.settings.local: SQLite, filesystem broker, file or
console email), with the broker folder, database and mail folder moved into a test's temporary
directory so the test never touches a developer's var/."""

from pathlib import Path

from config.settings.local import *  # noqa: F403
from config.settings.local import env

_broker = Path(env("HARBOR_TEST_BROKER_DIR"))
CELERY_BROKER_URL = "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(_broker / "out"),
    "data_folder_out": str(_broker / "out"),
    "processed_folder": str(_broker / "processed"),
    "store_processed": False,
}
