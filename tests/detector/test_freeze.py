"""Phase 1 freezes the CSPDarknet backbone; the phase switch hands it to the optimizer."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from nuscmot.detector.config import detector_config
from nuscmot.detector.exp import NuscExp, add_param_groups, trainable_parameters, yolox_param_groups

from .helpers import small_detector_cfg


def make_exp(**changes):
    torch.manual_seed(0)
    return NuscExp(detector_config(small_detector_cfg(**changes)))


def batch(n=2, size=(64, 96)):
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(n, 3, *size, generator=g) * 255
    targets = torch.zeros(n, 120, 5)
    targets[:, 0] = torch.tensor([2.0, 40.0, 30.0, 20.0, 16.0])  # class, cx, cy, w, h
    targets[:, 1] = torch.tensor([4.0, 70.0, 20.0, 12.0, 24.0])
    return imgs, targets


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module) -> set[str]:
    after = module.state_dict()
    return {k for k, v in before.items() if not torch.equal(v, after[k])}


def sgd_step(model, optimizer, lr=0.05):
    for g in optimizer.param_groups:
        g["lr"] = lr
    model.train()
    imgs, targets = batch()
    loss = model(imgs, targets)["total_loss"]
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_phase1_step_changes_head_but_not_backbone():
    exp = make_exp()
    model = exp.get_model()
    model.freeze_backbone(True)
    optimizer = exp.get_optimizer(4)
    backbone_before, rest_before = snapshot(model.darknet), snapshot(model.head)
    neck_before = {k: v for k, v in snapshot(model.backbone).items() if not k.startswith("backbone.")}
    sgd_step(model, optimizer)
    # backbone: weights AND BatchNorm running stats untouched (BNs stay in eval mode)
    assert changed(backbone_before, model.darknet) == set()
    assert any(isinstance(m, nn.BatchNorm2d) and not m.training for m in model.darknet.modules())
    assert all(not m.training for m in model.darknet.modules())
    assert all(p.grad is None for p in model.darknet.parameters())
    # head and neck (PAFPN) train, their BN stats move
    assert changed(rest_before, model.head)
    neck_after = {k: v for k, v in model.backbone.state_dict().items() if not k.startswith("backbone.")}
    assert any(not torch.equal(neck_before[k], neck_after[k]) for k in neck_before if "running_mean" in k)
    assert model.head.training


def test_model_train_keeps_frozen_backbone_in_eval_mode():
    model = make_exp().get_model()
    model.freeze_backbone(True)
    model.train()
    assert not model.darknet.training and model.head.training and model.backbone.training
    model.freeze_backbone(False)
    model.train()
    assert model.darknet.training
    assert all(p.requires_grad for p in model.parameters())


def test_phase_switch_adds_backbone_to_optimizer():
    exp = make_exp()
    model = exp.get_model()
    model.freeze_backbone(True)
    optimizer = exp.get_optimizer(4)
    in_opt = {id(p) for g in optimizer.param_groups for p in g["params"]}
    backbone = {id(p) for p in model.darknet.parameters()}
    assert not in_opt & backbone
    assert in_opt == {id(p) for p in model.parameters() if p.requires_grad}
    phase1 = trainable_parameters(model)

    model.freeze_backbone(False)
    add_param_groups(optimizer, model, model.darknet.parameters(), exp.weight_decay, prefix="backbone")
    groups = optimizer.param_groups
    assert [g["name"] for g in groups] == ["initial.bn", "initial.weight", "initial.bias",
                                         "backbone.bn", "backbone.weight", "backbone.bias"]
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))  # each parameter exactly once
    assert trainable_parameters(model) > phase1
    # YOLOX's split: decay only on conv weights; BN weights and all biases without
    decay = {g["name"]: g["weight_decay"] for g in groups}
    assert decay == {"initial.bn": 0.0, "initial.weight": exp.weight_decay, "initial.bias": 0.0,
                     "backbone.bn": 0.0, "backbone.weight": exp.weight_decay, "backbone.bias": 0.0}
    reference = yolox_param_groups(model)  # the split over the whole model
    for name, ref in zip(("bn", "weight", "bias"), reference):
        ours = {id(p) for g in groups if g["name"].endswith(name) for p in g["params"]}
        assert ours == {id(p) for p in ref["params"]}
    # and the backbone now trains
    before = snapshot(model.darknet)
    sgd_step(model, optimizer)
    assert changed(before, model.darknet)


@pytest.mark.parametrize("name, depthwise, width", [("yolox_nano", True, 0.25), ("yolox_s", False, 0.5)])
def test_exp_mirrors_yolox_sizes(name, depthwise, width):
    exp = make_exp(model=name)
    assert exp.num_classes == 7 and exp.width == width and exp.depthwise is depthwise
    model = exp.get_model()
    assert model.head.cls_preds[0].out_channels == 7
    has_dw = any(type(m).__name__ == "DWConv" for m in model.modules())
    assert has_dw is depthwise


def test_multiscale_sizes_follow_yolox_range():
    exp = make_exp(input_size=[256, 448], multiscale_range=3)
    sizes = {exp.random_resize(step=s) for s in range(1, 300)}
    assert exp.random_resize(step=0) == (256, 448)
    assert {h for h, _ in sizes} == {32 * k for k in range(8 - 3, 8 + 4)}
    assert all(w == 32 * int(h / 32 * 448 / 256) for h, w in sizes)
    assert exp.random_resize(step=7) == make_exp(input_size=[256, 448], multiscale_range=3).random_resize(step=7)
