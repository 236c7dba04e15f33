"""deploy/Dockerfile and Dockerfile.gpu: parsed by Docker's own parser, linted by hadolint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest

from tests.deploy.conftest import API_PORT, DEPLOY, DOCKERFILES, LIVENESS_PATH, loupe_subcommands

HADOLINT = Path(sys.executable).parent / "hadolint"
PINNED_TAG = re.compile(r"^[\w./-]+:[\w.-]*\d[\w.-]*(@sha256:[0-9a-f]{64})?$")


def commands(path: Path) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(path)))


def build_args(parsed: list[dockerfile.Command]) -> dict[str, str]:
    args: dict[str, str] = {}
    for command in parsed:
        if command.cmd == "ARG" and "=" in command.value[0]:
            name, _, default = command.value[0].partition("=")
            args.setdefault(name, default.strip('"'))
    return args


def stages(parsed: list[dockerfile.Command]) -> list[list[dockerfile.Command]]:
    result: list[list[dockerfile.Command]] = []
    for command in parsed:
        if command.cmd == "FROM":
            result.append([])
        if result:
            result[-1].append(command)
    return result


def resolve(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda match: args.get(match.group(1), match.group(0)), text)


def final_env(parsed: list[dockerfile.Command]) -> dict[str, str]:
    env: dict[str, str] = {}
    for command in stages(parsed)[-1]:
        if command.cmd == "ENV":
            pairs = command.value
            env |= dict(zip(pairs[::2], pairs[1::2], strict=True))
    return env


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_passes(path: Path) -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_multi_stage_with_pinned_bases(path: Path) -> None:
    parsed = commands(path)
    args = build_args(parsed)
    named = {}
    for stage in stages(parsed):
        image = resolve(stage[0].value[0], args)
        if len(stage[0].value) == 3:
            named[stage[0].value[2]] = image
        assert image in named or PINNED_TAG.fullmatch(image), f"{image} is not pinned"
    assert len(stages(parsed)) >= 2
    assert any(cmd.cmd == "COPY" and "--from=build" in cmd.flags for cmd in stages(parsed)[-1])


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_runs_as_non_root_with_healthcheck_and_loupe_entrypoint(path: Path) -> None:
    final = stages(commands(path))[-1]
    users = [cmd.value[0] for cmd in final if cmd.cmd == "USER"]
    assert users, "no USER in the final stage"
    assert users[-1].split(":")[0] not in {"root", "0"}
    (healthcheck,) = [cmd for cmd in final if cmd.cmd == "HEALTHCHECK"]
    probe = " ".join(healthcheck.value)
    assert LIVENESS_PATH in probe
    env = final_env(commands(path))
    assert env["LOUPE_PORT"] == str(API_PORT)
    assert env["LOUPE_HOST"] == "0.0.0.0"
    assert env["HF_HUB_OFFLINE"] == "1"
    (entrypoint,) = [cmd.value for cmd in final if cmd.cmd == "ENTRYPOINT"]
    assert entrypoint == ("loupe",)
    (cmd,) = [cmd.value for cmd in final if cmd.cmd == "CMD"]
    assert cmd[0] in loupe_subcommands()


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda path: path.name)
def test_torch_is_pinned_and_torchvision_never_installed(path: Path) -> None:
    parsed = commands(path)
    assert build_args(parsed)["TORCH_VERSION"] == "2.13.0"
    runs = [resolve(" ".join(cmd.value), build_args(parsed)) for cmd in parsed if cmd.cmd == "RUN"]
    torch_installs = [run for run in runs if '"torch==' in run]
    assert torch_installs, "torch is not installed with a pin"
    index = re.compile(r'--index-url "?https://download\.pytorch\.org/whl/(cpu|cu\d+)"? ')
    assert all(index.search(run) for run in torch_installs)
    project_installs = [run for run in runs if PROJECT_INSTALL.search(run)]
    assert project_installs
    assert all("--constraint /opt/constraints.txt" in run for run in project_installs)
    assert not [run for run in runs if "torchvision" in run]


PROJECT_INSTALL = re.compile(r'pip install [^&]*\s("?\.(\[clip\])?"?|"\$target")(\s|$)')


def test_cpu_image_is_lean_unless_built_for_clip() -> None:
    parsed = commands(DEPLOY / "Dockerfile")
    assert build_args(parsed)["CLIP_MODEL"] == ""  # the default image: bundled encoder, no torch
    runs = [" ".join(cmd.value) for cmd in parsed if cmd.cmd == "RUN"]
    (torch_run,) = [run for run in runs if '"torch==' in run]
    assert torch_run.startswith('if [ -n "$CLIP_MODEL" ]; then')
    assert "--index-url https://download.pytorch.org/whl/cpu" in torch_run
    (install,) = [run for run in runs if PROJECT_INSTALL.search(run)]
    assert 'if [ -n "$CLIP_MODEL" ]; then target=".[clip]"; else target="."; fi' in install
    assert "find_spec('torch')" in install  # the build fails if torch is where it should not be


def test_gpu_image_installs_the_clip_extra() -> None:
    runs = [" ".join(cmd.value) for cmd in commands(DEPLOY / "Dockerfile.gpu") if cmd.cmd == "RUN"]
    (install,) = [run for run in runs if PROJECT_INSTALL.search(run)]
    assert 'uv pip install --constraint /opt/constraints.txt ".[clip]"' in install


def test_gpu_image_has_cuda_base_and_baked_clip_weights() -> None:
    parsed = commands(DEPLOY / "Dockerfile.gpu")
    args = build_args(parsed)
    assert args["CUDA_IMAGE"].startswith("nvidia/cuda:")
    assert "runtime" in args["CUDA_IMAGE"]
    assert args["CLIP_MODEL"] == "clip-ViT-B-32"
    runs = " ".join(" ".join(cmd.value) for cmd in parsed if cmd.cmd == "RUN")
    assert "SentenceTransformer(sys.argv[1], cache_folder=" in runs
    env = final_env(parsed)
    assert env["LOUPE_MODEL"] == "clip:${CLIP_MODEL}"
    assert env["SENTENCE_TRANSFORMERS_HOME"].startswith("/opt/models")


def test_dockerignore_keeps_secrets_and_venvs_out() -> None:
    lines = (DEPLOY.parent / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {"**/.git", "**/.venv", "**/.env", "tests/"} <= set(lines)
