# DRAFT, included nowhere: minimal rules naming the new stages so that tests/test_stages.py
# (every stage has a rule named after it) passes before the integrator writes the real ones.


rule check_detections:
    log:
        "results/logs/check_detections.log",
    benchmark:
        "results/benchmarks/check_detections.tsv"
    shell:
        "python -m nuscmot.stages.check_detections --params '{params}' 2> {log}"


rule finetune_effect:
    log:
        "results/logs/finetune_effect.log",
    benchmark:
        "results/benchmarks/finetune_effect.tsv"
    shell:
        "python -m nuscmot.stages.finetune_effect --params '{params}' 2> {log}"
