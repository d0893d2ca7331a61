import argparse

import pytest

from makemore import ablate, diagnose, options, sample, train


@pytest.mark.parametrize("parser", [train.build_parser, diagnose.build_parser])
def test_model_flags_parse_alike_in_every_command(parser):
    args = parser().parse_args(["--gain", "5/3", "--output-scale", "1/100", "--bn-momentum", "0.1", "--type", "mlp"])
    assert args.gain == pytest.approx(5 / 3) and args.output_scale == pytest.approx(0.01) and args.bn_momentum == 0.1
    config = options.model_config(args, 27)
    assert config.resolved_gain == pytest.approx(5 / 3) and config.bn_momentum == 0.1


@pytest.mark.parametrize("text, value", [("5/3", 5 / 3), ("3", 3.0), ("1e-3", 1e-3), ("-2.5", -2.5)])
def test_number_accepts_decimals_and_fractions(text, value):
    assert options.number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["five", "nan", "inf", "-inf", "1/0", ""])
def test_number_rejects_what_is_not_a_finite_number(text):
    with pytest.raises(argparse.ArgumentTypeError):
        options.number(text)


def test_train_config_round_trip_and_missing_fields():
    config = options.TrainConfig(data="x", steps=10, batch_size=4, lr=0.1, lr_decay_at=5, lr_final=0.01, seed=1)
    assert options.TrainConfig.from_dict(config.to_dict()) == config
    assert [config.lr_at(s) for s in (4, 5)] == [0.1, 0.01]
    old = {k: v for k, v in config.to_dict().items() if k not in ("data_sha256", "lowercase")}
    assert options.TrainConfig.from_dict(old) == config  # checkpoints from before these fields
    with pytest.raises(KeyError, match="seed"):
        options.TrainConfig.from_dict({k: v for k, v in old.items() if k != "seed"})


BAD = [
    (train, ["--lr", "nan"], "argument --lr: must be a finite number, got 'nan'"),
    (train, ["--lr", "1e6"], "argument --lr: must be > 0 and <= 10, got 1e6"),
    (train, ["--lr", "0"], "argument --lr: must be > 0 and <= 10, got 0"),
    (train, ["--lr-final", "-1"], "argument --lr-final: must be >= 0 and <= 10, got -1"),
    (train, ["--bn-momentum", "5"], "argument --bn-momentum: must be >= 0 and <= 1, got 5"),
    (train, ["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (train, ["--seed", str(2**64)], "argument --seed: must be at most 2**64 - 1"),
    (train, ["--steps", "-1"], "argument --steps: must be at least 0, got -1"),
    (train, ["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (train, ["--n-hidden", "x"], "argument --n-hidden: not an integer: 'x'"),
    (train, ["--gain", "-1"], "argument --gain: must be >= 0"),
    (train, ["--type", "gpt"], "argument --type: invalid choice: 'gpt'"),
    (diagnose, ["--gain", "abc"], "argument --gain: not a number: 'abc'"),
    (diagnose, ["--bn-momentum", "5"], "argument --bn-momentum: must be >= 0 and <= 1, got 5"),
    (diagnose, ["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (ablate, ["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (ablate, ["--lr", "inf"], "argument --lr: must be a finite number, got 'inf'"),
    (ablate, ["--steps", "0"], "argument --steps: must be at least 1, got 0"),
    (sample, ["run", "--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    (sample, ["run", "-n", "-3"], "argument -n: must be at least 0, got -3"),
]


@pytest.mark.parametrize("command, argv, message", BAD, ids=[" ".join(a) for _, a, _ in BAD])
def test_each_bad_setting_is_a_one_line_usage_error(command, argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        command.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert message in last and "Traceback" not in err
