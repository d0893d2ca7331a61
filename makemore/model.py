"""Old import path, kept for notebooks and scripts: the MLP now lives in makemore.models.mlp."""

from .models.mlp import INITS, ModelConfig, add_bias_before_batchnorm, build_model, calibrate_batchnorm, count_parameters

__all__ = ["INITS", "ModelConfig", "build_model", "calibrate_batchnorm", "count_parameters", "add_bias_before_batchnorm"]
