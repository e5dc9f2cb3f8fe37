"""One row per heartbeat: when a periodic job last completed (or an alert was last sent)."""

from django.db import models


class Heartbeat(models.Model):
    """`name` is one of ops.heartbeats' names; `at` the last time it beat. A table, not a cache
    key: web, worker and beat are separate processes (the embedded default has no shared cache),
    and the database is the one thing they all reach."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
