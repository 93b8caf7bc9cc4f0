"""Splitting long lists for `IN (…)` queries: databases limit the parameters of one statement."""


def chunks(items: list, size: int = 500):
    """`items` in slices of at most `size`."""
    for i in range(0, len(items), size):
        yield items[i:i + size]
