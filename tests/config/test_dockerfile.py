"""The image builds (there is no Docker engine here, so its build steps run as a subprocess).

The test reads the Dockerfile itself: it lays out the build context as `COPY . .` would after
`.dockerignore`, then runs every `RUN … manage.py …` line of the Dockerfile in it, with the
Dockerfile's own environment, with the development-only packages made unimportable (the image
installs requirements.txt alone). A build step added to the Dockerfile is run here too."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = ["pytest", "pytest_django", "factory", "hypothesis", "schemathesis", "ruff", "time_machine", "playwright"]
BLOCKER = f"""
import importlib.abc, sys
class _DevOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {DEV_ONLY!r}:
            raise ImportError(f"{{name}} is a development requirement, not in the image")
        return None
sys.meta_path.insert(0, _DevOnly())
"""


def _dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(parts[0], pattern):
            return True
    return False


def _build_context(target: Path) -> Path:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines() if p.strip()]
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for relative in tracked:
        if _ignored(relative, patterns) or not (ROOT / relative).is_file():
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target / relative)
    return target


def test_the_image_leaves_tests_bench_and_scale_out(tmp_path: Path) -> None:
    # when
    context = _build_context(tmp_path / "context")
    # then
    assert (context / "manage.py").is_file()
    assert (context / "config" / "settings" / "build.py").is_file()
    for left_out in ("tests", "bench", "scale", ".venv", "var"):
        assert not (context / left_out).exists(), left_out


def test_the_image_installs_only_hashed_runtime_requirements() -> None:
    # given
    lines = _dockerfile_lines()
    text = (ROOT / "requirements.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\$", text, flags=re.MULTILINE)
    # then
    assert any("pip install" in line and "--require-hashes -r requirements.txt" in line for line in lines)
    assert not any("requirements-dev" in line for line in lines)
    assert pins, "requirements.txt pins nothing"
    requirements = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9_.-]+==", line)]
    assert len(requirements) == len(pins), "every pin in requirements.txt carries its hashes"
    names = {p.lower().replace("_", "-") for p in pins}
    assert names.isdisjoint({"pytest", "pytest-django", "factory-boy", "schemathesis", "ruff", "hypothesis"})
    assert {"django", "gunicorn", "celery", "weasyprint"} <= names


def test_every_compose_image_is_pinned() -> None:
    images = re.findall(r"^\s*image:\s*(\S+)", (ROOT / "docker-compose.yml").read_text(), flags=re.MULTILINE)
    assert images
    for image in images:
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), image


@pytest.mark.slow
def test_the_dockerfile_build_steps_pass(tmp_path: Path) -> None:
    # given the build context and the Dockerfile's environment, dev-only packages unimportable
    context = _build_context(tmp_path / "app")
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCKER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARBOR_", "DJANGO_", "SECRET_", "DATABASE_"))}
    env["PYTHONPATH"] = str(blocker)
    steps = []
    for line in _dockerfile_lines():
        instruction, _, rest = line.partition(" ")
        if instruction == "ENV":
            env.update(dict(item.split("=", 1) for item in shlex.split(rest)))
        elif instruction == "RUN" and "manage.py" in rest:
            steps.append(rest)
    assert any("collectstatic" in s for s in steps) and any("check --deploy" in s for s in steps)
    # when / then: each RUN line, as the image's shell would run it
    for step in steps:
        command = step.replace("python ", f"{shlex.quote(sys.executable)} ", 1)
        done = subprocess.run(
            ["sh", "-c", command], cwd=context, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"{step}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (context / "staticfiles" / "admin").is_dir()
