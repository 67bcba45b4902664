#!/bin/bash
# thread A: BP energy (paper partition) folds 1,2 after fold 0; then BP dipole folds 0-2 on to epoch 50
cd /work/main
while pgrep -f "run-dir runs/bp-energy-fold0" >/dev/null; do sleep 20; done
for f in 1 2; do
  .venv/bin/xatom train --model bp --target energy --energy-partition atom --fold $f --batch-size 100 --lr 0.001 --lr-patience 3 --early-stop-patience 12 --ema-decay 0.999 --max-epochs 50 --seed 0 --threads 1 --run-dir runs/bp-energy-fold$f > logs/bp-energy-fold$f.out 2>&1
done
for f in 0 1 2; do
  d=runs/bp-dipole-fold$f
  mkdir -p $d && cp data/checkpoints/bp-dipole-fold$f/* $d/ && cp data/models/bp-dipole-fold$f/model.pt $d/best.pt
  .venv/bin/python - $d > logs/bp-dipole-fold$f.out 2>&1 <<'PY'
import sys, torch
torch.set_num_threads(1)
from xatom.training import train, read_epoch_log
from xatom.checkpoint import read_checkpoint
d = sys.argv[1]
done = read_checkpoint(f"{d}/last.pt")["train_state"]["epoch"]
# on to the end of epoch 50, then one step into epoch 51 so that epoch 50's validation is written
print(train(d, None, max_steps=(50 - done) * 1000 + 1, progress=False))
PY
done
echo chainA done > logs/chainA.done
