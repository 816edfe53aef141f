#!/usr/bin/env bash
# Regenerates the small seed files of tests/fuzz/corpus/ from a built lpusim: kernels (.lpuasm),
# safetensors and packed weight files, a sweep's results CSV and traces (JSON and gzip). The
# shipped configs seed the YAML harnesses directly (tests/fuzz/harnesses.txt). The output is
# committed; rerun this after a format change and commit what changed.
# Usage: tests/fuzz/make-seeds.sh [path/to/lpusim]   (default: build/lpusim)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lpusim=$(realpath "${1:-$root/build/lpusim}")
corpus=$root/tests/fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
cd "$root"

seed() {  # seed HARNESS NAME: stdin becomes corpus/HARNESS/NAME
  mkdir -p "$corpus/$1"
  cat >"$corpus/$1/$2"
}

# .lpuasm: the GEMM kernel of a few formats, small shapes.
for q in int8 int4 q3.5 fp16; do
  "$lpusim" kernel --k 256 --n 64 --quant "$q" | seed lpuasm "gemm-$q.lpuasm"
done
# Four activation rows: the epilogue's MAD and group sum repeat (rep=, dst.rs=, ...).
"$lpusim" kernel --m 4 --k 512 --n 64 --quant q3.5 | seed lpuasm gemm-q3.5-m4-rep.lpuasm

# safetensors: one F32 [8, 256] matrix, one F16 vector and metadata; then its packed forms.
python3 - "$work/w.safetensors" <<'PY'
import json, struct, sys
rows, cols = 8, 256
w = b"".join(struct.pack("<f", ((r * 31 + c * 7) % 17 - 8) / 8.0)
             for r in range(rows) for c in range(cols))
b = b"".join(struct.pack("<e", i / 4.0) for i in range(16))
header = {"__metadata__": {"format": "pt"},
          "layer.w": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [0, len(w)]},
          "layer.b": {"dtype": "F16", "shape": [16], "data_offsets": [len(w), len(w) + len(b)]}}
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + w + b)
PY
seed safetensors small.safetensors <"$work/w.safetensors"
for q in int8 int4 q3.5 fp16; do
  "$lpusim" quantize --in "$work/w.safetensors" --quant "$q" --group-size 64 \
    --out "$work/p.safetensors" >/dev/null
  seed packed "w-$q.safetensors" <"$work/p.safetensors"
  [ "$q" = int4 ] && seed safetensors "packed-$q.safetensors" <"$work/p.safetensors"
done

# results CSV: the tiny test sweep (12 points, one failing), and a cut-off copy.
"$lpusim" sweep tests/data/sweeps/tiny-sweep.yaml --jobs 2 -o "$work/results.csv" >/dev/null
seed results_csv tiny-sweep.csv <"$work/results.csv"
head -c 700 "$work/results.csv" | seed results_csv torn.csv

# traces: a small GEMM and a two-layer run of the tiny model, plain and gzip.
"$lpusim" gemm --k 256 --n 64 --quant int4 --trace "$work/gemm.json" >/dev/null
seed trace gemm.json <"$work/gemm.json"
"$lpusim" gemm --k 128 --n 32 --quant q3.5 --trace "$work/gemm.json.gz" >/dev/null
seed trace gemm.json.gz <"$work/gemm.json.gz"

# --set lines (first byte: even = hardware, odd = model) and unit strings (first byte: parser).
printf '\0memory.bandwidth=2 MB/s\nclock=900 MHz' | seed set hw-bandwidth
printf '\0sram.capacity=220 MiB\nmemory.latency=100 ns' | seed set hw-sram
printf '\1layers=2\nhidden=512' | seed set model-layers
i=0
for text in "220 MiB" "80 GB/s" "900 MHz" "100 ns" "4" "20 pJ/B" "0.3 pJ" "30 W" \
  "64 B" "56320 B/cycle" "1.5 GHz" "90 cycles" "-1" "5 pJ/bit" "2 nJ" "300 mW"; do
  printf "\\$(printf '%03o' $((i % 8)))%s" "$text" | seed units "unit-$i"
  i=$((i + 1))
done
# a sweep that names its model (the shipped one names a file next to itself)
sed 's/^model: .*/model: llama2-7b/' tests/data/sweeps/tiny-sweep.yaml | seed sweep_yaml named-model.yaml
echo "make-seeds: wrote $(find "$corpus" -type f | wc -l) files, $(du -sh "$corpus" | cut -f1)"
