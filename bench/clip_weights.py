"""A randomly initialised CLIP saved like a real one (model + processor), built offline.

The tests load a tiny one through ``clip:<folder>``; the GPU benchmark loads one at ViT-B/32 size
(``VIT_B_32``) through the same path, since a random model costs the same FLOPs as a trained one.
The tokenizer is a real CLIP BPE tokenizer over a byte-level vocabulary with a handful of merges,
so nothing is downloaded (and a text is about one token per character, where a trained vocabulary
needs about one per word); the weights are random, so only shapes, plumbing and speed mean
anything.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _bytes_to_unicode() -> dict[int, str]:
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(code) for code in codes), strict=True))


MERGES = ("t h", "th e</w>", "c a", "ca t</w>", "d o", "do g</w>")


@dataclass(frozen=True, slots=True)
class Tower:
    """One transformer tower's shape."""

    hidden: int
    layers: int
    heads: int
    mlp: int


TINY = Tower(hidden=32, layers=2, heads=2, mlp=64)


def save_vit_b_32(folder: Path, *, seed: int = 0) -> Path:
    """A random CLIP of OpenAI's ViT-B/32 shape: 224 px, patch 32, 768x12 vision, 512x12 text,
    512-d shared space."""
    return save_random_clip(
        folder,
        projection_dim=512,
        image_size=224,
        patch_size=32,
        vision=Tower(hidden=768, layers=12, heads=12, mlp=3072),
        text=Tower(hidden=512, layers=12, heads=8, mlp=2048),
        seed=seed,
    )


def save_random_clip(
    folder: Path,
    *,
    projection_dim: int = 24,
    image_size: int = 32,
    patch_size: int = 8,
    vision: Tower = TINY,
    text: Tower = TINY,
    seed: int = 0,
) -> Path:
    """Write a random ``transformers.CLIPModel`` and its ``CLIPProcessor`` into ``folder``."""
    import torch
    import transformers
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer

    # transformers 5 names the PIL processor ...Pil; before 5 it is the plain name.
    image_processor_class: Any = getattr(
        transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor
    )

    chars = list(_bytes_to_unicode().values())
    tokens = [*chars, *(char + "</w>" for char in chars), *(m.replace(" ", "") for m in MERGES)]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: index for index, token in enumerate(tokens)}
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        vocab_file = Path(scratch) / "vocab.json"
        merges_file = Path(scratch) / "merges.txt"
        vocab_file.write_text(json.dumps(vocab), encoding="utf-8")
        merges_file.write_text("#version: 0.2\n" + "\n".join(MERGES) + "\n", encoding="utf-8")
        tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)
    image_processor = image_processor_class(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    processor: Any = CLIPProcessor(  # type: ignore[no-untyped-call]
        image_processor=image_processor, tokenizer=tokenizer
    )

    def tower(shape: Tower) -> dict[str, int]:
        return {
            "hidden_size": shape.hidden,
            "intermediate_size": shape.mlp,
            "num_hidden_layers": shape.layers,
            "num_attention_heads": shape.heads,
        }

    special = {
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": vocab["<|endoftext|>"],
        "pad_token_id": vocab["<|endoftext|>"],
    }
    config = CLIPConfig(
        text_config={
            **tower(text),
            **special,
            "vocab_size": len(vocab),
            "max_position_embeddings": 77,
        },
        vision_config={**tower(vision), "image_size": image_size, "patch_size": patch_size},
        projection_dim=projection_dim,
    )
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
