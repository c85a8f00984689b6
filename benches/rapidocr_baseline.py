"""Runs RapidOCR (the Python baseline) on every ground-truth page of the given folders and
writes its lines as Facture ground-truth JSON (one file per page, same name) so Facture's
own metrics score both pipelines the same way. Prints seconds per page.

Usage: python rapidocr_baseline.py OUT_DIR GT_DIR [GT_DIR ...]
Run by benches/rapidocr_baseline.sh inside a throwaway venv with pinned packages.
"""

import json
import os
import sys
import time
from pathlib import Path

import cv2
from rapidocr import RapidOCR


def pages(gt_dir: Path):
    for js in sorted(gt_dir.glob("*.json")):
        gt = json.loads(js.read_text())
        yield js, gt_dir / gt["image"], gt


def main() -> int:
    out_root = Path(sys.argv[1])
    threads = int(os.environ.get("BENCH_THREADS", "2"))
    params = {
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "Global.log_level": "warning",
    }
    engine = RapidOCR(params=params)
    # RapidOCR as close to Facture's defaults as its options go: no direction classifier
    # (RapidOCR runs one on every line by default, Facture only when asked), ONNX Runtime's
    # memory arena on (RapidOCR turns it off by default)
    lean = RapidOCR(params={**params, "Global.use_cls": False, "EngineConfig.onnxruntime.enable_cpu_mem_arena": True})
    for gt_dir in map(Path, sys.argv[2:]):
        out_dir = out_root / gt_dir.name
        out_dir.mkdir(parents=True, exist_ok=True)
        items = list(pages(gt_dir))
        # warm-up: the first call pays for session and memory-arena set-up
        engine(cv2.imread(str(items[0][1])))
        total = 0.0
        for js, image_path, gt in items:
            img = cv2.imread(str(image_path))
            t0 = time.perf_counter()
            res = engine(img)
            total += time.perf_counter() - t0
            boxes = []
            if res.boxes is not None:
                for quad, text in zip(res.boxes, res.txts):
                    xs = [float(p[0]) for p in quad]
                    ys = [float(p[1]) for p in quad]
                    boxes.append(
                        {"x0": max(0.0, min(xs)), "y0": max(0.0, min(ys)),
                         "x1": min(float(gt["width"]), max(xs)), "y1": min(float(gt["height"]), max(ys)),
                         "text": text}
                    )
            pred = {"image": gt["image"], "width": gt["width"], "height": gt["height"], "boxes": boxes}
            (out_dir / js.name).write_text(json.dumps(pred))
        lean(cv2.imread(str(items[0][1])))
        lean_total = 0.0
        for _, image_path, _ in items:
            img = cv2.imread(str(image_path))
            t0 = time.perf_counter()
            lean(img)
            lean_total += time.perf_counter() - t0
        n = len(items)
        print(f"rapidocr {gt_dir.name}: {n} pages, {total / n:.3f} s/page (no cls, arena on: {lean_total / n:.3f})",
              flush=True)
        (out_dir / "_timing.txt").write_text(f"{total / n:.4f}\n")
        (out_dir / "_timing_lean.txt").write_text(f"{lean_total / n:.4f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
