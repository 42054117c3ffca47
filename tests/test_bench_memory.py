"""benchmarks/bench_memory.py: one subprocess per case, peak memory and time recorded with the environment; cases
the memory check refuses, and skipped ones, are recorded as such (small sizes here)."""

from __future__ import annotations

import json

import torch


def test_bench_memory_records_each_case(tmp_path, monkeypatch):
    from benchmarks import bench_memory

    out = tmp_path / "m.json"
    assert bench_memory.main(["--sizes", "40", "--families", "johnson", "adain", "--tile", "0", "--skip", "adain:40",
                              "--why", "a test", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["complete"] is True and doc["weights"].startswith("random") and "torch" in doc["environment"]
    johnson, adain = doc["cases"]
    assert johnson["status"] == "ok" and johnson["family"] == "johnson" and johnson["size"] == 40
    assert johnson["peak_rss_mib"] >= johnson["peak_rss_before_mib"] > 10 and johnson["seconds"] > 0
    assert adain == {"family": "adain", "size": 40, "tile": None, "status": "not run", "message": "a test"}
    # a machine with 1 MiB free: the memory check refuses before anything runs, and says what fits
    import importlib

    monkeypatch.setattr(importlib.import_module("zoo.stylize"), "available_memory", lambda device: 2**20)
    refused = bench_memory.run_case("gatys", 4096, 1024, 1, timeout=60)
    assert refused["status"] == "refused" and "with --tile 1024" in refused["message"]
    assert "GiB are available" in refused["message"]


def test_peak_rss_is_this_processes_high_water_mark():
    from benchmarks.bench_memory import peak_rss_mib

    before = peak_rss_mib()
    x = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
    assert peak_rss_mib() >= before and peak_rss_mib() > 64
    del x
