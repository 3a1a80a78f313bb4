# DRAFT, included nowhere: minimal rules naming the new stages so that tests/test_stages.py
# (every stage has a rule named after it) passes before the integrator writes the real ones.
rule check_detections:
    shell: "python -m nuscmot.stages.check_detections --params '{params}'"

rule finetune_effect:
    shell: "python -m nuscmot.stages.finetune_effect --params '{params}'"
