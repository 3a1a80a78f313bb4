"""The report's own outputs: the switch gallery (crops and an animation of tracked frames) and
the summary page that opens the Snakemake report on the verdict."""
