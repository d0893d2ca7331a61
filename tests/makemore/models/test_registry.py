import pytest

import microtorch
from makemore import models
from makemore.models import mlp


def test_the_families_and_their_dispatch():
    assert models.TYPES == ("bigram", "mlp", "wavenet", "rnn", "gru", "bow", "transformer")
    config = mlp.ModelConfig(n_hidden=8)
    assert config.type == "mlp" and config.to_dict()["type"] == "mlp"
    assert models.config_from_dict(config.to_dict()) == config
    model = models.build_model(config, microtorch.Generator().manual_seed(0))
    assert models.count_parameters(model) == mlp.count_parameters(model) == 27 * 10 + 30 * 8 + 2 * 8 + 8 * 27 + 27


def test_a_config_without_type_is_an_mlp_and_an_unknown_type_is_named():
    d = mlp.ModelConfig().to_dict()
    del d["type"]  # checkpoints written before the families
    assert models.config_from_dict(d) == mlp.ModelConfig()
    with pytest.raises(ValueError, match="unknown model type 'lstm'; known: bigram, mlp, wavenet, rnn, gru, bow, transformer"):
        models.config_from_dict({**d, "type": "lstm"})
    with pytest.raises(ValueError, match="type must be 'mlp'"):
        mlp.ModelConfig(type="rnn")


def test_the_old_import_path_still_works():
    from makemore.model import ModelConfig, build_model, calibrate_batchnorm, count_parameters
    assert (ModelConfig, build_model, calibrate_batchnorm, count_parameters) == (
        mlp.ModelConfig, mlp.build_model, mlp.calibrate_batchnorm, mlp.count_parameters)
