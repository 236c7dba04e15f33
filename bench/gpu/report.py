"""The GPU benchmark's report: rows printed and saved as they come, a markdown table at the end,
and the environment they were measured in."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any


class Report:
    """Rows as they come (printed, and the JSON rewritten after each, so a timeout keeps data)."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.meta = meta
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        shown = {k: v for k, v in row.items() if k not in ("runs_s", "runs_img_per_s")}
        print(json.dumps(shown, default=str), file=sys.stderr, flush=True)
        self.path.write_text(json.dumps({"meta": self.meta, "rows": self.rows}, indent=1))

    def markdown(self) -> str:
        lines = [
            "| section | model | dtype | mode | batch | preprocess | pool | items/s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            speed = f"{row['img_per_s']:,.0f}" if "img_per_s" in row else row.get("error", "")
            if "p50_ms" in row:
                speed += f" (p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms)"
            cells = [
                row.get(key, "")
                for key in ("section", "model", "dtype", "mode", "batch", "preprocess", "pool")
            ]
            lines.append("| " + " | ".join(map(str, [*cells, speed])) + " |")
        return "\n".join(lines)


def environment(device: str) -> dict[str, Any]:
    import torch
    import transformers

    meta: dict[str, Any] = {
        "device": device,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "argv": sys.argv[1:],
    }
    if device.startswith("cuda"):
        meta["gpu"] = torch.cuda.get_device_name()
        meta["cuda"] = torch.version.cuda
    return meta
