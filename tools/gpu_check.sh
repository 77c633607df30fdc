#!/usr/bin/env bash
# One short run that measures everything GPU-related the first time a CUDA machine is at hand.
#
#   tools/gpu_check.sh                  # from the repo root; figures in $OUT, else ./gpu-report
#
# Needs torch (CUDA) and triton; PyAV and PySide6 may be missing (nothing here decodes video with
# PyAV or opens a window), the repo need not be pip-installed (PYTHONPATH is set to it). Steps, each
# with its own time limit, cut to what is left of GPU_CHECK_BUDGET (default 470 s: the whole run stays
# under 8 minutes; a step with under 10 s left is skipped and reported as such):
#   env            torch / CUDA / GPU / triton versions
#   ops_tests      tests/engine/ops with the Triton kernels compiled for the GPU (TRITON_INTERPRET=0)
#   bench_kernel   stv bench kernel, float32 and bfloat16
#   bench_model    stv bench model: tiny and paper, float32 and bfloat16 (paper: batch 8 x 16 frames)
#   train_amp      one `stv train --config paper --max-steps 1` step with AMP (bfloat16, then float16
#                  with loss scaling) on a generated UCF-101-layout tree
# Every step's output is kept in $REPORT/<step>.txt; summary.txt lists each step's exit status and
# the figures (frames/s, ms, peak memory). Exit status: the number of failed steps.
#
# GPU_CHECK_DEVICE=cpu runs the same steps on the CPU with tiny shapes (what tests/engine/train/
# test_gpu_check.py does, so the script itself is exercised on machines without a GPU).
set -uo pipefail
cd "$(dirname "$0")/.."
REPORT=${OUT:-./gpu-report}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
PY=${PYTHON:-python}
BUDGET=${GPU_CHECK_BUDGET:-470}
mkdir -p "$REPORT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TRITON_INTERPRET=0   # compile the kernels for the GPU (tests/conftest.py would default to the interpreter)
STV="$PY -m engine.cli.main"
if [ "$DEVICE" = cpu ]; then  # smoke mode: tiny shapes, the CPU-capable steps only
  OPS_TESTS=${OPS_TESTS:-tests/engine/ops/test_validation.py tests/engine/ops/test_mixed_dtypes.py}
  KERNEL_ARGS="--device cpu --shape small --repeat 1"
  SMALL="--batch 1 --window 2 --size 64 64 --repeat 1 --mode infer"
  MODEL_RUNS=("tiny|float32|$SMALL" "paper|bfloat16|$SMALL")
  TRAIN_CONFIG=tiny
  TRAIN_ARGS="--set input_size=[64,64] --set clip_len=2 --batch-size 2"
  KERNEL_DTYPES=(float32)  # low-precision kernel timing is CUDA-only
  AMP_DTYPES=()
else
  OPS_TESTS=${OPS_TESTS:-tests/engine/ops}
  KERNEL_ARGS="--device cuda"
  MODEL_RUNS=("tiny|float32|--batch 8" "tiny|bfloat16|--batch 8" "paper|float32|--batch 8 --window 16"
              "paper|bfloat16|--batch 8 --window 16")
  TRAIN_CONFIG=paper
  TRAIN_ARGS="--batch-size 4"
  KERNEL_DTYPES=(float32 bfloat16)
  AMP_DTYPES=(bfloat16 float16)
fi
: > "$REPORT/summary.txt"
failed=0

step() {  # step NAME SECONDS COMMAND...: output to $REPORT/NAME.txt, status and figures to summary.txt
  local name=$1 limit=$2
  shift 2
  local left=$((BUDGET - SECONDS))
  if [ "$left" -lt 10 ]; then
    failed=$((failed + 1))
    echo "== $name: skipped (the ${BUDGET} s budget is spent): $*" >> "$REPORT/summary.txt"
    return
  fi
  [ "$limit" -le "$left" ] || limit=$left
  local began=$SECONDS
  timeout "$limit" "$@" > "$REPORT/$name.txt" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || failed=$((failed + 1))
  echo "== $name: exit $rc ($((SECONDS - began)) s): $*" >> "$REPORT/summary.txt"
  grep -E "frames/s|ms|clips/s|GB|passed|failed|error|CUDA|torch|triton|first step|epoch 1" "$REPORT/$name.txt" \
    | grep -v "^\s*$" | tail -n 12 >> "$REPORT/summary.txt"
}

step env 60 "$PY" -c "
import torch, platform
print('python', platform.python_version(), 'torch', torch.__version__, 'CUDA', torch.version.cuda,
      'available', torch.cuda.is_available())
if torch.cuda.is_available():
    print('GPU', torch.cuda.get_device_name(0), 'capability', torch.cuda.get_device_capability(0),
          'memory %.1f GB' % (torch.cuda.get_device_properties(0).total_memory / 2**30))
try:
    import triton; print('triton', triton.__version__)
except ImportError:
    print('triton not installed')
"
step ops_tests 240 "$PY" -m pytest -q -p no:cacheprovider $OPS_TESTS
for dtype in "${KERNEL_DTYPES[@]}"; do
  step "bench_kernel_$dtype" 120 $STV bench kernel $KERNEL_ARGS --dtype "$dtype"
done
for run in "${MODEL_RUNS[@]}"; do
  IFS='|' read -r config dtype args <<< "$run"
  step "bench_model_${config}_$dtype" 120 $STV bench model --config "$config" --device "$DEVICE" --dtype "$dtype" $args
done
TREE=$(mktemp -d)
"$PY" -c "from engine.data.tiny_trees import write_ucf101_tree; write_ucf101_tree('$TREE', classes=4, clips_per_class=6, frames=20, size=(120, 160))"
if [ ${#AMP_DTYPES[@]} -eq 0 ]; then  # CPU smoke: AMP is CUDA-only, so one plain step
  step train_step 180 $STV train --config "$TRAIN_CONFIG" --data "$TREE/UCF-101" --out "$TREE/run" --epochs 1 --max-steps 1 \
    --device "$DEVICE" --no-progress $TRAIN_ARGS
fi
for dtype in "${AMP_DTYPES[@]}"; do
  step "train_amp_$dtype" 180 $STV train --config "$TRAIN_CONFIG" --data "$TREE/UCF-101" --out "$TREE/run_$dtype" --epochs 1 \
    --max-steps 1 --amp-dtype "$dtype" --device "$DEVICE" --no-progress --workers 2 $TRAIN_ARGS
done
rm -rf "$TREE"
echo "== $failed step(s) failed; every output in $REPORT" >> "$REPORT/summary.txt"
cat "$REPORT/summary.txt"
exit "$failed"
