#!/usr/bin/env bash
# Run by Snakemake inside the freshly created conda env.
set -euo pipefail
# Declared deps pull a CUDA torch / numpy 2 / onnxruntime: install without them.
pip install --no-deps yolox-datamint==0.3.1
# Snakemake runs this from the working directory, the repository root.
pip install --no-deps -e .
