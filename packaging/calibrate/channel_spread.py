#!/usr/bin/env python3
"""How unevenly the recogniser's channels are scaled, for depthwise and other convolutions.

For each convolution's input and output tensor, over line crops of a ground-truth directory:
the largest channel's absolute maximum divided by the median channel's. One uint8 scale per
tensor serves every channel, so a large ratio would leave the narrow channels few steps. Used
to check why Facture keeps depthwise convolutions in float (quantize_convs in
src/prelabel/model/onnx_edit.rs); not part of the build. Needs onnxruntime==1.31.1, onnx,
numpy and pillow:

    cargo run --release -- synth --count 12 --seed 1901 --out /tmp/synth
    python packaging/calibrate/channel_spread.py \
        target/facture-runtime/models/PP-OCRv6_rec_small.onnx /tmp/synth
"""
import glob, json, math, os, sys, tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from PIL import Image


def crops(directory, pages=3, every=4, limit=60):
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json")))[:pages]:
        doc = json.load(open(path))
        img = np.asarray(Image.open(os.path.join(directory, doc["image"])).convert("RGB"))
        for b in doc["boxes"][::every]:
            m = 0.25 * (b["y1"] - b["y0"])
            xa, ya = int(max(0, b["x0"] - m)), int(max(0, b["y0"] - m))
            out.append(img[ya:int(b["y1"] + m), xa:int(b["x1"] + m)])
    return out[:limit]


def tensor(rgb):
    h, w = rgb.shape[:2]
    nw = max(8, int(math.ceil(48 * w / h)))
    a = np.asarray(Image.fromarray(rgb).resize((nw, 48), Image.BILINEAR))[:, :, ::-1].astype(np.float32)
    return ((a / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]


def main(model_path, gt_dir):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    basic = os.path.join(tempfile.mkdtemp(), "basic.onnx")
    opts.optimized_model_filepath = basic
    ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    model = onnx.load(basic)
    grouped = {}
    for n in model.graph.node:
        if n.op_type == "Conv":
            g = next((a.i for a in n.attribute if a.name == "group"), 1)
            for t in (n.input[0], n.output[0]):
                grouped[t] = grouped.get(t, False) or g > 1
    present = {o.name for o in model.graph.output}
    for t in grouped:
        if t not in present:
            model.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    top = {}
    lines = crops(gt_dir)
    for c in lines:
        for name, v in zip(names, session.run(None, {session.get_inputs()[0].name: tensor(c)})):
            if name in grouped:
                top[name] = np.maximum(top.get(name, 0), np.abs(v).max(axis=(0, 2, 3)))
    for kind, want in (("depthwise", True), ("other", False)):
        ratios = [per.max() / max(float(np.median(per)), 1e-6) for t, per in top.items() if grouped[t] == want]
        print(f"{kind}: {len(ratios)} tensors over {len(lines)} lines; largest channel / median channel: "
              f"median {np.median(ratios):.1f}, max {max(ratios):.1f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
