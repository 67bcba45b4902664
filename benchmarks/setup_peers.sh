#!/usr/bin/env bash
# Creates .venv-bench: xatom (editable) next to schnetpack 2.1.1, torchani 2.9 and dscribe 2.1, kept
# apart from the project's own environment. Run from anywhere; the venv lands in the repository root.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python3 -m venv "$repo/.venv-bench"
. "$repo/.venv-bench/bin/activate"

# The CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
pip install torch==2.13.0
pip install -e "$repo" --no-deps
pip install numpy pandas scipy tqdm platformdirs vesin ninja qm9pack rdkit

# schnetpack 2.1.1 pins sympy<=1.12, with which pip would swap torch for a CUDA torch 2.4.1:
# install it without dependencies, then its runtime dependencies by hand.
pip install --no-deps schnetpack==2.1.1
pip install ase matscipy torchmetrics pytorch-lightning torch-ema hydra-core h5py rich fasteners dirsync pyyaml

# torchani 2.9.0 accepts torch<=2.13, so its dependencies install as they are.
pip install torchani==2.9.0 dscribe==2.1.2

python -c "import torch; v = torch.__version__; assert v.startswith('2.13.0'), v; print('torch', v)"
