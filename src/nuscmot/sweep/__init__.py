"""Parameter sweeps and ablations over the tracking stage (``snakemake sweep_tracking`` and
``snakemake gap_ablation``); the jobs themselves are the ordinary tracking and evaluation
entry points, these modules only name the cells and summarise their metrics.

- :mod:`.grid`: association grids as ``Paramspace`` cells with stable, typed names.
- :mod:`.summary`: the sweep table and the best cell per tracker (configurable objective).
- :mod:`.ablation`: gap-ablation levels (drop mode x drop rate) and their curves.
- :mod:`.plots`: IDSW heatmaps and ablation curves (PNG).
"""
