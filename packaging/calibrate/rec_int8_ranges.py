#!/usr/bin/env python3
"""Measures the activation ranges Facture needs to run the PP-OCRv6 recogniser's
convolutions in int8 (see quantize_convs in src/prelabel/model/onnx_edit.rs), and writes them
as JSON. Depthwise convolutions stay float there, so their ranges are measured but unused.

Not part of the build: the output is committed as assets/models/PP-OCRv6_rec_small.int8-ranges.json.
To reproduce it (needs a venv with onnxruntime==1.31.1, onnx, numpy, pillow):

    cargo run --release --example model_eval -- synth /tmp/facture-calib 10 99
    python packaging/calibrate/rec_int8_ranges.py \
        target/facture-runtime/models/PP-OCRv6_rec_small.onnx /tmp/facture-calib \
        assets/models/PP-OCRv6_rec_small.int8-ranges.json

Calibration lines are Facture's own synthetic invoices (seed 99, not the seed-7 evaluation
set), cut at their ground-truth boxes with a quarter-height margin, every third line, 200 in
all, in four variants (as rendered; blurred; half resolution with noise; faded with noise)
so the ranges also cover scanned and thermal-printed pages. The model is first optimised by
ONNX Runtime at the basic level, exactly as Facture does before quantising, so each range
belongs to one convolution of that graph, keyed by the convolution's node name.
"""
import glob, hashlib, json, math, os, sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from PIL import Image, ImageFilter


def line_crops(directory):
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        doc = json.load(open(path))
        img = np.asarray(Image.open(os.path.join(directory, doc["image"])).convert("RGB"))
        height, width = img.shape[:2]
        for b in doc["boxes"]:
            m = 0.25 * (b["y1"] - b["y0"])
            xa, ya = int(max(0, b["x0"] - m)), int(max(0, b["y0"] - m))
            xb, yb = int(min(width, b["x1"] + m)), int(min(height, b["y1"] + m))
            if xb - xa >= 4 and yb - ya >= 4:
                out.append(img[ya:yb, xa:xb])
    return out


def variant(rgb, k, rng):
    im = Image.fromarray(np.ascontiguousarray(rgb))
    if k == 1:
        im = im.filter(ImageFilter.GaussianBlur(1.2))
    elif k == 2:
        w, h = im.size
        im = im.resize((max(4, w // 2), max(4, h // 2))).resize((w, h))
    a = np.asarray(im).astype(np.float32)
    if k == 3:
        a = 255 - (255 - a) * 0.6 + rng.normal(0, 12, a.shape)
    elif k == 2:
        a = a + rng.normal(0, 6, a.shape)
    return np.clip(a, 0, 255).astype(np.uint8)


def tensor(rgb):
    """As Facture's recogniser input: height 48, BGR, (x/255 - 0.5)/0.5, 32 zero columns
    after lines narrower than 320 px."""
    h, w = rgb.shape[:2]
    nw = max(8, int(math.ceil(48 * w / h)))
    a = np.asarray(Image.fromarray(rgb).resize((nw, 48), Image.BILINEAR))[:, :, ::-1].astype(np.float32)
    a = ((a / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    if nw < 320:
        a = np.concatenate([a, np.zeros((3, 48, 32), np.float32)], axis=2)
    return a[None]


def main(model_path, calib_dir, out_path):
    rng = np.random.default_rng(1)
    crops = [variant(c, k % 4, rng) for k, c in enumerate(line_crops(calib_dir))][::3][:200]
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    optimized = out_path + ".basic.onnx"
    opts.optimized_model_filepath = optimized
    ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    model = onnx.load(optimized)
    os.remove(optimized)
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    watched = {t for n in convs for t in (n.input[0], n.output[0])}
    present = {o.name for o in model.graph.output}
    for t in sorted(watched - present):
        model.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    lo = {t: 0.0 for t in watched}
    hi = {t: 0.0 for t in watched}
    for x in crops:
        for name, value in zip(names, session.run(None, {session.get_inputs()[0].name: tensor(x)})):
            if name in lo:
                lo[name] = min(lo[name], float(value.min()))
                hi[name] = max(hi[name], float(value.max()))
    sha = hashlib.sha256(open(model_path, "rb").read()).hexdigest()
    ranges = {n.name: [lo[n.input[0]], hi[n.input[0]], lo[n.output[0]], hi[n.output[0]]] for n in convs}
    json.dump({
        "model_sha256": sha,
        "onnxruntime": ort.__version__,
        "calibration": f"{len(crops)} lines of Facture's synthetic invoices (seed 99), 4 variants",
        "convs": ranges,
    }, open(out_path, "w"), indent=1)
    print(f"{len(ranges)} convolutions from {len(crops)} lines -> {out_path}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
