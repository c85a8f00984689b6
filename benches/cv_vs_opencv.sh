#!/bin/sh
# Facture's CV proposals against an OpenCV-Python pipeline on the same images in the same run.
# usage: benches/cv_vs_opencv.sh [DIR]   (default ../shared/data/sroie-dev)
# Creates a throwaway venv (removed on exit); both sides time proposals only, decoding
# excluded, best of 3 passes over all pages. EVAL_CV=path/to/eval_cv skips the cargo build.
set -eu
cd "$(dirname "$0")/.."
DIR="${1:-../shared/data/sroie-dev}"
VENV="$(mktemp -d)"
trap 'rm -rf "$VENV"' EXIT
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet opencv-python-headless==4.10.0.84 numpy==1.26.4
if [ -z "${EVAL_CV:-}" ]; then
    cargo build --release --quiet --example eval_cv
    EVAL_CV=./target/release/examples/eval_cv
fi

best_ms() { python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(min(x["ms_per_page"] for x in r))'; }
FAC_JSON="$("$EVAL_CV" "$DIR" --json)"
FAC_MS="$( (echo "$FAC_JSON" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))';
            for _ in 1 2; do "$EVAL_CV" "$DIR" --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))'; done) | best_ms)"
OCV="$("$VENV/bin/python" benches/opencv_baseline.py "$DIR" --repeat 3)"
OCV_U="$("$VENV/bin/python" benches/opencv_baseline.py "$DIR" --repeat 3 --untuned)"

python3 - "$FAC_JSON" "$FAC_MS" "$OCV" "$OCV_U" <<'PY'
import json, sys
fac, fac_ms, ocv, ocv_u = json.loads(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
print(f"{'pipeline':<18} {'docs':>4} {'prec':>6} {'rec':>6} {'f1':>6} {'ms/page':>8}")
for name, r, ms in [("facture cv", fac, fac_ms), ("opencv tuned", ocv, ocv["ms_per_page"]), ("opencv untuned", ocv_u, ocv_u["ms_per_page"])]:
    print(f"{name:<18} {r['documents']:>4} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['f1']:>6.3f} {ms:>8.1f}")
print(f"time ratio facture / opencv (tuned): {fac_ms / ocv['ms_per_page']:.2f}  (opencv {ocv['opencv']})")
PY
