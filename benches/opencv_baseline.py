#!/usr/bin/env python3
"""OpenCV line-proposal baseline for comparison with Facture's CV proposals.

The classic pipeline: grey, adaptive threshold, horizontal dilation, external contours,
bounding rectangles, size filters. Parameters scale with the image (kernel widths relative
to the page width) and were grid-searched on sroie-dev itself (144 combinations of block
size, C, kernel width, aspect and height filters; best F1), so on sroie-dev this baseline is
optimistic, and synthetic invoices show how it generalises. Scores use the same rule as
facture::metrics (one-to-one greedy matching by descending IoU, IoU >= threshold; empty
cases count as 1). Timing covers the pipeline only (image decoding excluded), best of
--repeat passes. Prints one JSON object.

usage: opencv_baseline.py DIR [--iou 0.5] [--repeat 3] [--untuned]
"""
import argparse
import glob
import json
import os
import time

import cv2
import numpy as np


def propose(img, tuned=True):
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    if tuned:
        block = max(15, (w // 80) | 1)
        bw = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 35)
        kw = max(3, w // 30)
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (kw, 1))
        joined = cv2.dilate(bw, kernel, iterations=1)
    else:
        bw = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, 11, 2)
        joined = cv2.dilate(bw, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 3)), iterations=1)
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    min_h, max_h = max(4, h // 150), h // 20
    for c in contours:
        x, y, bw_, bh = cv2.boundingRect(c)
        if tuned and not (min_h <= bh <= max_h and bw_ >= bh * 1.5 and bw_ * bh >= 40):
            continue
        boxes.append((x, y, x + bw_, y + bh))
    return boxes


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(gt, pred, t):
    cands = []
    for gi, g in enumerate(gt):
        for pi, p in enumerate(pred):
            v = iou(g, p)
            if v > 0 and v >= t:
                cands.append((-v, gi, pi))
    cands.sort()
    ug, up, n = set(), set(), 0
    for _, gi, pi in cands:
        if gi not in ug and pi not in up:
            ug.add(gi)
            up.add(pi)
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--iou", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--untuned", action="store_true")
    a = ap.parse_args()
    cv2.setNumThreads(os.cpu_count() or 1)
    pages = []
    for jp in sorted(glob.glob(os.path.join(a.dir, "*.json"))):
        try:
            gt = json.load(open(jp))
            img = cv2.imread(os.path.join(os.path.dirname(jp), gt["image"]), cv2.IMREAD_COLOR)
        except Exception:
            continue
        if img is None:
            continue
        pages.append((gt, img))
    best = None
    for _ in range(max(1, a.repeat)):
        start = time.perf_counter()
        preds = [propose(img, not a.untuned) for _, img in pages]
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    n_gt = n_pred = n_match = 0
    for (gt, _), pred in zip(pages, preds):
        g = [(b["x0"], b["y0"], b["x1"], b["y1"]) for b in gt["boxes"]]
        n_gt += len(g)
        n_pred += len(pred)
        n_match += match(g, pred, a.iou)
    p = n_match / n_pred if n_pred else 1.0
    r = n_match / n_gt if n_gt else 1.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    print(json.dumps({
        "source": "opencv" + ("-untuned" if a.untuned else ""),
        "opencv": cv2.__version__,
        "documents": len(pages),
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f1, 4),
        "ms_per_page": round(1000 * best / max(1, len(pages)), 2),
    }))


if __name__ == "__main__":
    main()
