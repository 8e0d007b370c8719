"""Benchmarks: chainrule side by side with micrograd and a hand-written float floor."""
