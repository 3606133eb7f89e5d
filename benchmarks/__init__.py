"""clvlab's benchmarks against its peers; see benchmarks/README.md."""
