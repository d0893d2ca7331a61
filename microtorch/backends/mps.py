"""torch.backends.mps: Apple's Metal backend, never available in microtorch."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
