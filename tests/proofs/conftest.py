def label(r):
    return r.label


def failed(results):
    """label -> failing step names, for the theorems that failed."""
    return {r.label: set(r.failed_steps) for r in results if not r.proved}
