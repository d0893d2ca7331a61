"""Learning-rate schedules against hand-written lists and PyTorch's formulas."""
import math

import numpy as np
import pytest

import microtorch
from microtorch.optim import SGD, lr_scheduler
from microtorch.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler, MultiStepLR, StepLR


def optimizer(lr=1.0, n_groups=1) -> SGD:
    groups = [{"params": [microtorch.tensor(np.zeros(2), requires_grad=True)], "lr": lr * (i + 1)} for i in range(n_groups)]
    return SGD(groups, lr=lr)


def lrs(scheduler: LRScheduler, epochs: int = 10, lr_set_at_epoch_1: float | None = None) -> list[float]:
    """The lr of the first group at epochs 0 .. epochs-1 (epoch 0 is set by the constructor),
    optionally with the lr set by hand right after the scheduler set epoch 1's."""
    values = [scheduler.optimizer.param_groups[0]["lr"]]
    for epoch in range(1, epochs):
        scheduler.optimizer.step()
        scheduler.step()
        if epoch == 1 and lr_set_at_epoch_1 is not None:
            scheduler.optimizer.param_groups[0]["lr"] = lr_set_at_epoch_1
        values.append(scheduler.optimizer.param_groups[0]["lr"])
    return values


def test_step_lr_by_hand():
    expected = [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001]
    assert lrs(StepLR(optimizer(1.0), step_size=3, gamma=0.1)) == pytest.approx(expected, rel=1e-12)


def test_step_lr_closed_form():
    values = lrs(StepLR(optimizer(0.5), step_size=2, gamma=0.7), epochs=12)
    assert values == pytest.approx([0.5 * 0.7 ** (e // 2) for e in range(12)], rel=1e-12)


def test_multi_step_lr_by_hand():
    expected = [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25]
    assert lrs(MultiStepLR(optimizer(1.0), milestones=[5, 2], gamma=0.5)) == pytest.approx(expected, rel=1e-12)


def test_multi_step_lr_repeated_milestone_applies_gamma_twice():
    expected = [1, 1, 1, 0.01, 0.01, 0.001]
    assert lrs(MultiStepLR(optimizer(1.0), milestones=[3, 3, 5]), epochs=6) == pytest.approx(expected, rel=1e-12)


def test_lambda_lr_multiplies_the_base_lr():
    values = lrs(LambdaLR(optimizer(0.2), lambda epoch: 0.95**epoch))
    assert values == pytest.approx([0.2 * 0.95**e for e in range(10)], rel=1e-12)


def test_lambda_lr_one_function_per_group():
    opt = optimizer(1.0, n_groups=2)
    scheduler = LambdaLR(opt, [lambda e: 1.0 / (e + 1), lambda e: 0.5])
    for _ in range(3):
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([1.0 / 4, 2.0 * 0.5])


def test_lambda_lr_rejects_wrong_number_of_functions():
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(optimizer(n_groups=2), [lambda e: 1.0])


def test_cosine_annealing_closed_form_and_end_points():
    values = lrs(CosineAnnealingLR(optimizer(1.0), T_max=10, eta_min=0.1), epochs=11)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    assert values == pytest.approx(expected, rel=1e-12)
    assert values[0] == pytest.approx(1.0) and values[5] == pytest.approx(0.55) and values[10] == pytest.approx(0.1)


def test_cosine_annealing_matches_pytorch_recursive_form():
    # PyTorch's get_lr within T_max: lr_e = eta + (lr_{e-1} - eta) * (1 + cos(pi e/T)) / (1 + cos(pi (e-1)/T)).
    T_max, eta_min = 8, 0.05
    values = lrs(CosineAnnealingLR(optimizer(0.3), T_max=T_max, eta_min=eta_min), epochs=T_max)
    lr, recursive = 0.3, [0.3]
    for e in range(1, T_max):
        lr = (1 + math.cos(math.pi * e / T_max)) / (1 + math.cos(math.pi * (e - 1) / T_max)) * (lr - eta_min) + eta_min
        recursive.append(lr)
    assert values == pytest.approx(recursive, rel=1e-12)


def test_construction_takes_the_initial_step():
    opt = optimizer(0.4, n_groups=2)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    assert scheduler.last_epoch == 0
    assert [g["initial_lr"] for g in opt.param_groups] == [0.4, 0.8]
    assert scheduler.base_lrs == [0.4, 0.8]
    assert scheduler.get_last_lr() == [0.4, 0.8]
    scheduler.step()
    assert scheduler.last_epoch == 1
    assert scheduler.get_last_lr() == pytest.approx([0.2, 0.4])
    assert [g["lr"] for g in opt.param_groups] == scheduler.get_last_lr()


def test_scheduled_lr_drives_the_optimizer_step():
    p = microtorch.tensor(np.zeros(1), requires_grad=True)
    opt = SGD([p], lr=1.0)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = microtorch.tensor(np.ones(1))
        opt.step()
        scheduler.step()
    assert p.item() == pytest.approx(-(1.0 + 0.5 + 0.25))


def test_state_dict_round_trip_continues_the_schedule():
    first = CosineAnnealingLR(optimizer(1.0), T_max=10)
    for _ in range(4):
        first.step()
    state = first.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 4
    second = CosineAnnealingLR(optimizer(1.0), T_max=10)
    second.optimizer.load_state_dict(first.optimizer.state_dict())  # a schedule continues from the groups' lr
    second.load_state_dict(state)
    first.step()
    second.step()
    assert second.last_epoch == 5
    assert second.get_last_lr() == first.get_last_lr()


def test_lambda_lr_state_dict_saves_callable_objects_only():
    class Warmup:
        def __init__(self, epochs):
            self.epochs = epochs

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.epochs)

    scheduler = LambdaLR(optimizer(n_groups=2), [Warmup(4), lambda e: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 4}, None]
    restored = LambdaLR(optimizer(n_groups=2), [Warmup(10), lambda e: 1.0])
    restored.load_state_dict(state)
    assert restored.lr_lambdas[0].epochs == 4
    assert callable(restored.lr_lambdas[1])


def test_chained_schedulers_compound_as_in_pytorch():
    # each built-in schedule updates the groups' current lr, so two schedulers on one
    # optimizer multiply: StepLR halves at epochs 2 and 4, MultiStepLR divides by 10 at 3
    opt = optimizer(1.0)
    first = StepLR(opt, step_size=2, gamma=0.5)
    second = MultiStepLR(opt, milestones=[3], gamma=0.1)
    values = [opt.param_groups[0]["lr"]]
    for _ in range(5):
        opt.step()
        first.step()
        second.step()
        values.append(opt.param_groups[0]["lr"])
    assert values == pytest.approx([1.0, 1.0, 0.5, 0.05, 0.025, 0.025], rel=1e-12)
    assert first.get_last_lr() == second.get_last_lr() == pytest.approx([0.025])


def test_an_lr_set_by_hand_is_kept_and_scheduled_on():
    values = lrs(StepLR(optimizer(1.0), step_size=3, gamma=0.5), epochs=7, lr_set_at_epoch_1=0.4)
    assert values == pytest.approx([1.0, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1], rel=1e-12)


def test_cosine_annealing_continues_from_an_lr_set_by_hand_and_climbs_back_after_t_max():
    # PyTorch's values: the recursive form from the edited lr down to eta_min at T_max, then
    # the step up from eta_min, then the recursive form again towards base_lr
    values = lrs(CosineAnnealingLR(optimizer(1.0), T_max=4), epochs=11, lr_set_at_epoch_1=0.5)
    expected = [1.0, 0.5, 0.2928932188134525, 0.08578643762690497, 0.0, 0.1464466094067262, 0.5, 0.8535533905932742, 1.0,
                0.8535533905932742, 0.5]
    assert values == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(optimizer(), step_size=2, last_epoch=5)


def test_resuming_from_an_epoch():
    opt = optimizer(1.0)
    StepLR(opt, step_size=2)
    opt.param_groups[0]["lr"] = 0.1  # as a run resumed after epoch 3 would have it
    scheduler = StepLR(opt, step_size=2, gamma=0.1, last_epoch=3)
    assert scheduler.last_epoch == 4
    assert scheduler.get_last_lr() == pytest.approx([0.01])


def test_step_with_an_epoch_jumps_and_warns():
    scheduler = MultiStepLR(optimizer(1.0), milestones=[2, 4])
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(4)
    assert scheduler.last_epoch == 4 and scheduler.get_last_lr() == pytest.approx([0.01])


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        StepLR(object(), step_size=1)


def test_custom_scheduler_subclass():
    class Halving(lr_scheduler.LRScheduler):
        def get_lr(self):
            return [base / 2**self.last_epoch for base in self.base_lrs]

    assert lrs(Halving(optimizer(1.0)), epochs=4) == [1.0, 0.5, 0.25, 0.125]
    assert lr_scheduler._LRScheduler is LRScheduler
