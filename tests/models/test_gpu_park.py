"""`scripts/gpu-train.sh park` / `unpark`, in a throwaway git checkout holding a copy of the
script: the shipped ONNX models leave what travels to the device (tracked files in the
working tree and untracked ones git does not ignore) for the ignored work folder and come
back byte for byte; a parked file that no longer matches git's is refused and left alone."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "models").mkdir()
    shutil.copy(REPO / "scripts" / "gpu-train.sh", repo / "scripts" / "gpu-train.sh")
    (repo / ".gitignore").write_text("/.gpu/\n")
    (repo / "models" / "big.onnx").write_bytes(os.urandom(3 * 2**20))
    (repo / "models" / "big.card.json").write_text("{}\n")
    (repo / "README.md").write_text("a checkout\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return repo


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/gpu-train.sh", *args], cwd=repo, capture_output=True, text=True
    )


def travelling(repo: Path) -> set[str]:
    """What a device call would send: tracked files present, untracked not ignored."""
    listed = git(repo, "ls-files", "--cached", "--others", "--exclude-standard").split()
    return {f for f in listed if (repo / f).exists()}


def test_park_takes_the_models_out_of_what_travels_and_unpark_brings_them_back(checkout):
    model = checkout / "models" / "big.onnx"
    before = model.read_bytes()
    r = run(checkout, "park")
    assert r.returncode == 0, r.stderr
    assert "parked 1 model file(s), 3.0 MiB" in r.stderr
    assert not model.exists()
    assert travelling(checkout) == {
        ".gitignore",
        "README.md",
        "models/big.card.json",
        "scripts/gpu-train.sh",
    }
    assert (checkout / ".gpu" / "parked" / "models" / "big.onnx").read_bytes() == before
    again = run(checkout, "park")  # idempotent: nothing more to move
    assert again.returncode == 0 and "nothing parked" in again.stderr
    r = run(checkout, "unpark")
    assert r.returncode == 0, r.stderr
    assert model.read_bytes() == before
    assert git(checkout, "status", "--porcelain") == ""
    assert not (checkout / ".gpu" / "parked").exists()


def test_unpark_refuses_a_parked_file_that_differs_from_git(checkout):
    assert run(checkout, "park").returncode == 0
    parked = checkout / ".gpu" / "parked" / "models" / "big.onnx"
    parked.write_bytes(b"not the model")
    r = run(checkout, "unpark")
    assert r.returncode == 2
    assert "models/big.onnx (the parked copy differs from what git has)" in r.stderr
    assert parked.read_bytes() == b"not the model"  # left where it is, nothing overwritten
    assert not (checkout / "models" / "big.onnx").exists()


def test_park_refuses_a_changed_model_and_never_overwrites_a_parked_one(checkout):
    """A model changed here is not git's to restore: it stays where it is. A second park
    after a restore from git leaves the first parked copy alone."""
    model = checkout / "models" / "big.onnx"
    model.write_bytes(b"retrained here, not committed")
    r = run(checkout, "park")
    assert r.returncode == 2 and "changed from git's copy" in r.stderr
    assert model.read_bytes() == b"retrained here, not committed"
    git(checkout, "checkout", "--", "models/big.onnx")
    assert run(checkout, "park").returncode == 0
    git(checkout, "checkout", "--", "models/big.onnx")  # restored from git while parked
    parked = checkout / ".gpu" / "parked" / "models" / "big.onnx"
    parked.write_bytes(b"a parked copy that must not be replaced")
    r = run(checkout, "park")
    assert r.returncode == 2 and "already parked" in r.stderr
    assert parked.read_bytes() == b"a parked copy that must not be replaced"


def test_names_are_names_not_patterns_and_unpark_goes_on_past_a_refusal(checkout):
    """x[1].onnx is parked and checked as itself (not as a pattern matching x1.onnx); one
    parked file that differs from git is listed and left, the others are put back."""
    for name in ("x[1].onnx", "x1.onnx", "y.onnx"):
        (checkout / "models" / name).write_bytes(name.encode() * 1000)
    git(checkout, "add", ".")
    git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "more")
    assert run(checkout, "park").returncode == 0
    parked = checkout / ".gpu" / "parked" / "models"
    (parked / "y.onnx").write_bytes(b"damaged")
    r = run(checkout, "unpark")
    assert r.returncode == 2 and "y.onnx (the parked copy differs" in r.stderr
    for name in ("x[1].onnx", "x1.onnx", "big.onnx"):
        assert (checkout / "models" / name).exists(), name
    assert not (checkout / "models" / "y.onnx").exists()
    assert (parked / "y.onnx").read_bytes() == b"damaged"
