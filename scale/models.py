"""The seed's own bookkeeping: one row per finished stage, so an interrupted seed resumes."""

from __future__ import annotations

from django.db import models


class SeedStage(models.Model):
    """A stage of `seed_scale` that finished (in the same transaction as its rows)."""

    name = models.CharField(max_length=40)
    size = models.CharField(max_length=10)
    rows = models.BigIntegerField(default=0)
    seconds = models.FloatField(default=0)
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "size"], name="scale_stage_once")]

    def __str__(self) -> str:
        return f"{self.size}:{self.name}"
