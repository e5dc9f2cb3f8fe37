"""Say how much the model-based test actually ran (examples and steps), whatever -s says."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    from .harness import MAX_STEPS, SHARD, SHARDS, STATS, WRITES

    if not STATS["machines"]:
        return
    steps = STATS["checks"] - STATS["machines"]  # the check also runs once before the first step
    terminalreporter.write_line(
        f"model-based visibility{f' (shard {SHARD}/{SHARDS})' if SHARDS > 1 else ''}: {STATS['examples']} examples ran all {MAX_STEPS} steps "
        f"({STATS['machines']} sequences in all, shrinking included), {steps} steps, "
        f"{STATS['requests']} API requests, {STATS['seconds']:.0f} s"
    )
    terminalreporter.write_line(
        "  writes: " + ", ".join(f"{path} ×{n}" for path, n in sorted(WRITES.items(), key=lambda kv: -kv[1]))
    )
