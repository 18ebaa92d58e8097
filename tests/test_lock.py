"""The committed locks cover pyproject.toml: a dependency added without `make lock` fails here, offline; the runtime
lock (`make chat`) pins exactly what the full lock (`make test`) pins."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _pins(lock: Path) -> dict[str, str]:
    """Package name -> pinned version; every pin must carry at least one hash."""
    return {name: version for name, (version, _) in _entries(lock).items()}


def _entries(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Package name -> (pinned version, its hashes)."""
    text = lock.read_text(encoding="utf-8")
    entries: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9._-]+)==([^ ;\\\n]+)", block)
        if match:
            hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
            assert hashes, f"{match.group(1)} has no hash in {lock.name}"
            entries[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return entries


def _project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_dependency_and_extra_is_pinned_with_hashes() -> None:
    project = _project()["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    pins = _pins(ROOT / "requirements.lock")
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]} outside {requirement.specifier}: run `make lock`"
        )


def test_uv_bootstrap_pin_matches_the_makefile_and_the_build_backend() -> None:
    version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert version
    assert _pins(ROOT / "requirements-uv.lock") == {"uv": version.group(1)}
    backend = Requirement(_project()["build-system"]["requires"][0])
    assert backend.name == "uv_build"
    assert SpecifierSet(str(backend.specifier)).contains(version.group(1))


def test_the_runtime_lock_pins_the_dependencies_with_the_full_locks_versions_and_hashes() -> None:
    runtime, full = _entries(ROOT / "requirements-runtime.lock"), _entries(ROOT / "requirements.lock")
    for line in _project()["project"]["dependencies"]:
        name = canonicalize_name(Requirement(line).name)
        assert name in runtime, f"{name} is not in requirements-runtime.lock: run `make lock`"
    for name, entry in runtime.items():
        assert full.get(name) == entry, (f"requirements-runtime.lock pins {name}=={entry[0]} (or its hashes) unlike "
                                         "requirements.lock: run `make lock`")
    assert "pytest" not in runtime and "datasette" not in runtime  # the extras stay out of `make chat`
