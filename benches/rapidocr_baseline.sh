#!/usr/bin/env bash
# Same pages, same run: RapidOCR 3.10.0 (Python, same PP-OCRv6 small models, pinned, in a
# throwaway venv) against Facture's model pass, both with 2 ONNX Runtime threads, both scored
# by Facture's metrics module. Prints seconds per page, the ratio and Facture's time to first
# boxes (detection only), the CER of both on the lines both matched, and Facture with its
# recogniser on each path: int8 as this CPU picks it (8-bit weights with VNNI, 7-bit
# without), 7-bit weights forced (the path of CPUs without VNNI), and float. Each line also
# gives score_auroc (scores ranking exact readings above wrong ones) and the median IoU of
# matched boxes. Usage: benches/rapidocr_baseline.sh [GT_DIR ...]
# (default: ../shared/data/sroie-dev and 20 synthetic invoices). Needs python3 with venv.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q rapidocr==3.10.0 onnxruntime==1.31.1

cargo build -q --release --example model_eval
eval_bin=${CARGO_TARGET_DIR:-target}/release/examples/model_eval
sets=("$@")
if [ ${#sets[@]} -eq 0 ]; then
  "$eval_bin" synth "$work/synth" 20 7
  sets=(../shared/data/sroie-dev "$work/synth")
fi

vnni=$(grep -o -m1 -w -e avx512_vnni -e avx_vnni /proc/cpuinfo | sort -u | paste -sd, - || true)
vnni=${vnni:-no VNNI}
echo "CPU:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) ($vnni)"
BENCH_THREADS=2 "$work/venv/bin/python" benches/rapidocr_baseline.py "$work/rapid" "${sets[@]}"
for set in "${sets[@]}"; do
  name=$(basename "$set")
  rapid=$("$eval_bin" eval "$set" --pred "$work/rapid/$name" --name rapidocr-3.10.0)
  ours=$("$eval_bin" eval "$set" --threads 2 --common-with "$work/rapid/$name")
  # the same pass with the recogniser in float (the spec's "precision": "float")
  ours_float=$("$eval_bin" eval "$set" --threads 2 --precision float --name facture-float)
  ours_7bit=$("$eval_bin" eval "$set" --threads 2 --weights 7 --name facture-int8-7bit)
  echo "$rapid"
  echo "$ours"
  echo "$ours_float"
  echo "$ours_7bit"
  python3 - "$rapid" "$ours" "$(cat "$work/rapid/$name/_timing.txt")" "$(cat "$work/rapid/$name/_timing_lean.txt")" "$ours_float" "$ours_7bit" <<'EOF'
import json, sys
r, f, rs, lean = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
for other in (json.loads(sys.argv[5]), json.loads(sys.argv[6]), f):
    print(f"{other['set']}: facture, recogniser {other['recognizer']}: {other['s_per_page']:.3f} s/page "
          f"(P {other['precision']:.3f} R {other['recall']:.3f} cer {other['cer']:.4f} folded {other['cer_folded']:.4f} "
          f"score_auroc {other['score_auroc']} median IoU {other['median_iou']}) | ratio {other['s_per_page'] / rs:.2f}x")
print(f"{f['set']}: rapidocr {rs:.3f} s/page (P {r['precision']:.3f} R {r['recall']:.3f} "
      f"cer {r['cer']:.4f} folded {r['cer_folded']:.4f}) | facture {f['s_per_page']:.3f} s/page "
      f"(P {f['precision']:.3f} R {f['recall']:.3f} cer {f['cer']:.4f} folded {f['cer_folded']:.4f}), "
      f"first boxes {f['first_boxes_s_per_page']:.3f} s | ratio {f['s_per_page'] / rs:.2f}x "
      f"(vs RapidOCR without its classifier, arena on: {lean:.3f} s/page, {f['s_per_page'] / lean:.2f}x)")
print(f"{f['set']}: on the {f['common_lines']} lines both matched: cer facture {f['cer_common']:.4f} "
      f"rapidocr {f['other_cer_common']:.4f}, folded facture {f['cer_folded_common']:.4f} "
      f"rapidocr {f['other_cer_folded_common']:.4f}")
EOF
done
