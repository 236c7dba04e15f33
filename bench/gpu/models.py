"""Randomly initialised CLIP image towers at real sizes (ViT-B/32, ViT-L/14, and a tiny one for
smoke runs), their forward pass, and timing it on a device (``bench/gpu/run.py`` drives them)."""

from __future__ import annotations

import statistics
import time
from typing import Any

MODELS: dict[str, dict[str, int]] = {
    "ViT-B/32": {"hidden": 768, "layers": 12, "heads": 12, "mlp": 3072, "patch": 32, "proj": 512},
    "ViT-L/14": {"hidden": 1024, "layers": 24, "heads": 16, "mlp": 4096, "patch": 14, "proj": 768},
    "tiny": {"hidden": 64, "layers": 2, "heads": 2, "mlp": 128, "patch": 16, "proj": 32},
}


def build_vision_model(name: str, *, image_size: int, device: str, dtype: Any) -> Any:
    """A randomly initialised CLIP image tower with projection, in eval mode on ``device``."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    shape = MODELS[name]
    config = CLIPVisionConfig(
        hidden_size=shape["hidden"],
        intermediate_size=shape["mlp"],
        num_hidden_layers=shape["layers"],
        num_attention_heads=shape["heads"],
        patch_size=shape["patch"],
        projection_dim=shape["proj"],
        image_size=image_size,
    )
    config._attn_implementation = "sdpa"
    placement: Any = torch.device(device)  # build the weights on the device directly
    model_class: Any = CLIPVisionModelWithProjection
    with placement:
        model = model_class(config)
    return model.to(dtype=dtype).eval()


def make_forward(model: Any) -> Any:
    import torch

    def forward(pixels: Any) -> Any:
        embeds = model(pixel_values=pixels).image_embeds
        return torch.nn.functional.normalize(embeds.float(), dim=-1)

    return forward


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_forward(
    forward: Any, *, batch: int, image_size: int, device: str, dtype: Any, warmup: int, runs: int
) -> dict[str, Any]:
    import torch

    pixels = torch.randn(batch, 3, image_size, image_size, device=device).to(dtype)
    times = []
    with torch.inference_mode():
        for index in range(warmup + runs):
            sync(device)
            began = time.perf_counter()
            forward(pixels)
            sync(device)
            if index >= warmup:
                times.append(time.perf_counter() - began)
    median = statistics.median(times)
    return {"median_s": median, "img_per_s": batch / median, "runs_s": times}


def dtype_of(name: str) -> Any:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
    torch.backends.cudnn.allow_tf32 = name == "tf32"
    return {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16}.get(
        name, torch.float16
    )
