"""``loupe eval``: argument handling, the table, and a real run once the bundled encoder exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from rich.console import Console

from loupe.api.commands.eval import _table, command
from loupe.api.settings import Settings
from loupe.bench.evaluation.run import EvalReport


@pytest.fixture
def two_label_folder(tmp_path: Path) -> Path:
    for label, rgb in {"red": (255, 0, 0), "blue": (0, 0, 255)}.items():
        (tmp_path / label).mkdir()
        Image.new("RGB", (8, 8), rgb).save(tmp_path / label / "0.png")
    return tmp_path


def test_command_is_named_eval() -> None:
    assert command.name == "eval"


def test_unknown_dataset_is_a_clean_error() -> None:
    result = CliRunner().invoke(command, ["imagenet"])
    assert result.exit_code == 1
    assert "unknown dataset 'imagenet'" in result.output
    assert "Traceback" not in result.output


def test_unknown_model_is_a_clean_error(two_label_folder: Path) -> None:
    result = CliRunner().invoke(command, [f"folder:{two_label_folder}", "--model", "nope"])
    assert result.exit_code == 1
    assert "unknown LOUPE_MODEL 'nope'" in result.output


def test_limit_must_be_positive() -> None:
    result = CliRunner().invoke(command, ["samples", "--limit", "0"])
    assert result.exit_code == 2


def test_table_lists_every_metric() -> None:
    report = EvalReport(
        dataset="samples",
        model_id="m",
        images=10,
        labels=10,
        load_seconds=0.5,
        image_seconds=2.0,
        text_seconds=0.1,
        zero_shot={"top@1": 0.25},
        text_to_image={"hit@1": 0.5, "mAP": 0.625, "queries": 10.0},
        image_to_image={"visual": {"mAP": 0.125, "queries": 4.0}},
    )
    console = Console(record=True, width=120)
    console.print(_table(report))
    text = console.export_text()
    assert "samples: 10 images, 10 labels, model m" in text
    for expected in ("0.2500", "0.6250", "image→image (visual)", "0.1250", "5.0"):
        assert expected in text
    assert "queries" not in text


@pytest.mark.slow
def test_real_run_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        command,
        ["samples", "--limit", "4", "--model", "bundled:multi", "--json", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(result.output) == report
    assert report["images"] == 4
    # The bundled encoder with the e5 tower (deterministic ONNX) ranks each of the first four
    # sample photos first for its own caption: 1.0, measured; a worse encoder or a broken metric
    # shows here. (The default USE tower scores 0.875: the astronaut has no ImageNet class, and
    # USE puts "astronaut" nearest the rocket's "space shuttle".)
    assert report["text_to_image"]["mAP"] == 1.0
    assert report["text_to_image"]["hit@1"] == 1.0


def test_model_defaults_to_the_settings_in_the_context(two_label_folder: Path) -> None:
    settings = Settings.model_validate({"model": "clip-typo"})
    result = CliRunner().invoke(command, [f"folder:{two_label_folder}"], obj=settings)
    assert result.exit_code == 1
    assert "unknown LOUPE_MODEL 'clip-typo'" in result.output
