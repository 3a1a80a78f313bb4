# The report: every identity switch as a table, a gallery of them (crops, one animation), and a
# summary page that opens `snakemake --report` on the verdict (workflow/report/workflow.rst
# includes its verdict fragment). Cheap jobs: seconds each.

REPORT_OUT = SimpleNamespace(
    switches=f"{R}/switches/{{source}}",  # <tracker run>.csv per switch
    gallery=f"{R}/report/gallery",  # <source>/<sequence>/*.jpg, index.json
    gif=f"{R}/report/worst_sequence.gif",
    summary=f"{R}/report/summary.html",
    fragment=f"{R}/report/verdict.html",
)
# the gallery's runs: the reference detection sources, the baseline and the other model's reference run
GALLERY_TRACKERS = sorted(
    REF_TRACKER_RUNS,
    key=lambda run: parse_tracker_run(run)[0] != COMPARE.baseline,
)


# the params of the gallery (the reference runs' results and switch tables) and the summary
# (every TrackSSM seed's training and held-out reports)
GALLERY_PARAMS = json.dumps(
    {
        "sources": {
            s: {
                t: OUT.tracking_dir.format(source=s, tracker=t)
                for t in GALLERY_TRACKERS
            }
            for s in REF_SOURCE_RUNS
        },
        "switches": {s: REPORT_OUT.switches.format(source=s) for s in REF_SOURCE_RUNS},
    }
)
SUMMARY_PARAMS = json.dumps(
    {
        "trackssm": {
            str(seed): {
                "training": OUT.trackssm_training.format(seed=seed),
                "heldout": OUT.trackssm_heldout.format(seed=seed),
            }
            for seed in (SEEDS if "trackssm" in TRACKERS else [])
        }
    },
    sort_keys=True,
)


rule switches:
    input:
        results=lambda wildcards: per_run(OUT.tracking_dir, sources=[wildcards.source]),
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        code=code("switches"),
    output:
        report(
            directory(REPORT_OUT.switches),
            patterns=["{run}.csv"],
            caption="../report/switches.rst",
            category="4. Switches",
            subcategory="{source}",
            labels={"source": "{source}", "tracker run": "{run}"},
        ),
    log:
        f"{OUT.logs}/switches_{{source}}.log",
    benchmark:
        f"{OUT.benchmarks}/switches_{{source}}.tsv"
    wildcard_constraints:
        source=run_regex(SOURCE_RUNS),
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=slice_json("evaluation"),
        runs=lambda wildcards: json.dumps(
            {
                t: OUT.tracking_dir.format(source=wildcards.source, tracker=t)
                for t in TRACKER_RUNS
            },
            sort_keys=True,
        ),
        baseline=COMPARE.baseline,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.switches --params {params.cfg:q} --runs {params.runs:q}"
        " --baseline {params.baseline} --mot-dir {input.mot_dir:q} --seqmap {input.seqmap:q}"
        " --out-dir {output:q} > {log:q} 2>&1"


rule gallery:
    input:
        results=per_run(
            OUT.tracking_dir, sources=REF_SOURCE_RUNS, trackers=GALLERY_TRACKERS
        ),
        switches=expand(REPORT_OUT.switches, source=REF_SOURCE_RUNS),
        mot_dir=OUT.mot_dir,
        seqmap=OUT.seqmap,
        dataroot=DATAROOT if NUSCENES else [],  # (mot data: a refused target)
        code=code("gallery"),
    output:
        strips=report(
            directory(REPORT_OUT.gallery),
            patterns=["{source}/{sequence}/{name}.jpg"],
            caption="../report/gallery.rst",
            category="4. Switches",
            subcategory="gallery: {source}",
            labels={"sequence": "{sequence}", "strip": "{name}"},
        ),
        gif=REPORT_OUT.gif,  # shown in summary.html (the report does not display GIFs)
    log:
        f"{OUT.logs}/gallery.log",
    benchmark:
        f"{OUT.benchmarks}/gallery.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=GALLERY_PARAMS,
    shell:
        ANNOUNCE
        + "python -m nuscmot.stages.gallery --params {params.cfg:q} --mot-dir {input.mot_dir:q}"
        " --seqmap {input.seqmap:q} --dataroot {input.dataroot:q} --out-dir {output.strips:q}"
        " --gif {output.gif:q} > {log:q} 2>&1"


rule report_summary:
    input:
        compare=OUT.paradox_json,
        detector=OUT.detector_metrics_json,
        detector_plots=f"{R}/detector/plots",
        trackssm=(
            expand([OUT.trackssm_training, OUT.trackssm_heldout], seed=SEEDS)
            if "trackssm" in TRACKERS
            else []
        ),
        gallery=REPORT_OUT.gallery,
        gif=REPORT_OUT.gif,
        code=code("report_summary"),
    output:
        html=report(
            REPORT_OUT.summary,
            caption="../report/summary.rst",
            category="1. Verdict",
            subcategory="1. Summary",
        ),
        fragment=REPORT_OUT.fragment,
    log:
        f"{OUT.logs}/report_summary.log",
    benchmark:
        f"{OUT.benchmarks}/report_summary.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=SUMMARY_PARAMS,
    shell:
        ANNOUNCE + "python -m nuscmot.stages.report_summary --params {params.cfg:q}"
        " --compare-json {input.compare:q} --detector-json {input.detector:q}"
        " --detector-plots {input.detector_plots:q} --gallery {input.gallery:q} --gif {input.gif:q}"
        " --out-html {output.html:q} --out-fragment {output.fragment:q} > {log:q} 2>&1"
