from . import fsdp_wrap_policy, hooks, optimizers  # noqa: F401
