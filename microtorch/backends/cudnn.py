"""torch.backends.cudnn: never available; its flags can be set (scripts do) and change nothing."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
