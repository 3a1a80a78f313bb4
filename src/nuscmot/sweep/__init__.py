"""Parameter sweeps and ablations over the tracking stage (``snakemake sweep_tracking`` and
``snakemake gap_ablation``); the jobs themselves are the ordinary tracking and evaluation
stages, these modules name the cells and summarise their metrics.

- :mod:`.grid`: association grids as ``Paramspace`` cells with stable, typed names.
- :mod:`.summary`: the sweep table and the best cell per tracker (configurable objective).
- :mod:`.block`: one sweep job: every cell of one motion model on one detection source.
- :mod:`.tuning`: the sweep's summary, best.json and heatmaps (the ``sweep_tracking`` stage).
- :mod:`.ablation`: gap-ablation levels (drop mode x drop rate) and their curves.
- :mod:`.gap_report`: the gap ablation's curves and attribution (the ``gap_ablation`` stage).
- :mod:`.plots`: IDSW heatmaps and ablation curves (PNG).
"""
