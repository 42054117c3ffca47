"""zoo.results, the one reader of benchmark results: which records count, for every reader alike."""

import json

import benchmarks.run as R
from zoo import results, weights


def _write(folder, name, obj):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(obj))


def test_one_rule_for_usable_records_in_every_reader(tmp_path, monkeypatch):
    base = {"model": "adain", "weights": "adain", "protocol": {"name": "styleid", "n": 800, "size": 512},
            "metrics": {"artfid": 30.5, "lpips_alex": 0.6}}
    _write(tmp_path, "a-good.json", {**base, "usable": True})
    _write(tmp_path, "b-unmarked.json", base)  # nobody said these numbers are usable
    _write(tmp_path, "c-random.json", {**base, "usable": True, "random_weights": True})
    _write(tmp_path, "d-reduced.json", {**base, "usable": False, "unusable_reasons": ["non-standard protocol"]})
    _write(tmp_path, "e-speed.json", {"benchmark": "adain", "results": [{"size": 512, "zoo_vs_peer": 1.2}]})
    (tmp_path / "f-broken.json").write_text("{not json")

    usable, skipped = results.load(tmp_path)
    assert [r.file.name for r in usable] == ["a-good.json"]
    assert usable[0].metrics == {"artfid": 30.5, "lpips_alex": 0.6} and usable[0].n == 800
    assert [(f.name, why) for f, why in skipped] == [
        ("b-unmarked.json", "unusable: not marked usable"),
        ("c-random.json", "unusable: computed with random weights"),
        ("d-reduced.json", "unusable: non-standard protocol"),
        ("e-speed.json", "not a benchmarks.run quality result"),
        ("f-broken.json", "unreadable (JSONDecodeError)"),
    ]
    # the weights table (zoo list --pretrained, model cards) sees exactly the same numbers (here under the
    # tag's former name, adain)
    monkeypatch.setattr(weights, "RESULTS_DIR", tmp_path)
    assert {(m["metric"], m["value"], m["file"]) for m in weights.get_weights("adain_original").metrics()} == {
        ("artfid", 30.5, "a-good.json"), ("lpips_alex", 0.6, "a-good.json")}


def test_every_metric_the_benchmark_writes_has_one_name_in_the_table():
    assert dict(R.METRICS) == dict(results.PROTOCOL_METRICS)
    for names in results.PROTOCOL_METRICS.values():
        for name in names:
            m = results.METRICS[name]
            assert m.name == name and m.label and m.column and m.fmt.format(1.5)


def test_committed_results_are_read_from_the_package_or_its_checkout():
    from zoo.resources import checkout_root

    assert results.RESULTS_DIR == weights.RESULTS_DIR
    assert results.RESULTS_DIR == checkout_root() / "benchmarks" / "results"
    assert sorted(p.name for p in results.RESULTS_DIR.glob("*.json"))
