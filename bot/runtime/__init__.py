"""The process's machinery: the background worker pool, coalescing, metrics, logging, start-up, version."""
