#!/usr/bin/env bash
# Run by Snakemake inside the freshly created conda env.
set -euo pipefail
# Snakemake runs this from the working directory, the repository root.
pip install --no-deps -e .
