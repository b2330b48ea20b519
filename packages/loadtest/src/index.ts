// Placeholder: the load tester (Artillery-compatible scripts, open-model engine, HTML reports) lands in its own issue.
export {};
