"""A tiny randomly initialised CLIP saved like a real one (model + processor), built offline.

The tokenizer is a real CLIP BPE tokenizer over a byte-level vocabulary with a handful of merges,
so nothing is downloaded; the weights are random, so only shapes and plumbing mean anything.
"""

from __future__ import annotations

import json
import tempfile
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


def save_tiny_clip(
    folder: Path,
    *,
    projection_dim: int = 24,
    image_size: int = 32,
    patch_size: int = 8,
    hidden_size: int = 32,
    layers: int = 2,
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
    tower = {
        "hidden_size": hidden_size,
        "intermediate_size": 2 * hidden_size,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
    }
    special = {
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": vocab["<|endoftext|>"],
        "pad_token_id": vocab["<|endoftext|>"],
    }
    config = CLIPConfig(
        text_config={**tower, **special, "vocab_size": len(vocab), "max_position_embeddings": 77},
        vision_config={**tower, "image_size": image_size, "patch_size": patch_size},
        projection_dim=projection_dim,
    )
    torch.manual_seed(seed)
    CLIPModel(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
