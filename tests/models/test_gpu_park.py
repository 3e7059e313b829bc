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
    assert again.returncode == 0 and "nothing to park" in again.stderr
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
    assert "differs from what git has for models/big.onnx" in r.stderr
    assert parked.read_bytes() == b"not the model"  # left where it is, nothing overwritten
    assert not (checkout / "models" / "big.onnx").exists()
