"""The PartSTAD benchmark's tables and the fit-on-test upper-bound row."""

from __future__ import annotations

from partlift.report.bench_partstad import ALL_METHODS, INSTANCE_METHODS, UPPER_BOUND, fit_shapes, format_bench


def test_upper_bound_fits_and_selects_on_the_test_shapes():
    few, val, test = ["f"], ["v"], ["t1", "t2"]
    assert fit_shapes(UPPER_BOUND, few, val, test) == (test, test)
    for name in ALL_METHODS:
        if name != UPPER_BOUND:
            assert fit_shapes(name, few, val, test) == (few, val)


def _fake_result(methods):
    cats = ("Kettle", "Chair")
    entry = {"miou": 0.5, "map50_part_aware": 0.4, "map50_part_agnostic": 0.3,
             "per_category": {c: {"miou": 0.5, "map50_part_aware": 0.4, "map50_part_agnostic": 0.3} for c in cats}}
    timing = {"inference_s_per_shape": 0.5, "inference_stages_s": {"render": 0.01}, "proposer_train_s": 10.0,
              "preprocess_s": 2.0, "total_s": 30.0,
              "per_category": {c: {"weights_fit_s": {"partstad": 1.0}} for c in cats}}
    return {"methods": {m: entry for m in methods}, "timing": timing}


def test_upper_bound_is_a_semantic_row_only():
    text = format_bench(_fake_result(ALL_METHODS))
    tables = text.split("Table ")
    assert "(bound) fit on test" in tables[1]
    assert all("(bound)" not in t for t in tables[2:])
    assert UPPER_BOUND not in INSTANCE_METHODS
    # every method has its own row in Table 1
    assert sum(line.startswith(("SATR", "PartSLIP", "w/o", "PartSTAD", "CE", "conf", "(bound)"))
               for line in tables[1].splitlines()) == len(ALL_METHODS)
