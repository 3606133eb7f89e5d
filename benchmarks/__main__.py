"""Run every benchmark: ``python -m benchmarks`` (sizes: see each script's --help)."""

from benchmarks import bench_models, bench_rfm

if __name__ == "__main__":
    bench_rfm.main([])
    print()
    bench_models.main([])
