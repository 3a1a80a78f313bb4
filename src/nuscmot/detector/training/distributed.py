"""torchrun's environment: one process per GPU under DDP, or a single plain process."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Mapping

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """torchrun's environment: distributed only when ``WORLD_SIZE > 1``."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "DistContext":
        world = int(env.get("WORLD_SIZE", "1") or 1)
        if world <= 1:
            return cls()
        return cls(world, int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0")))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self) -> torch.device:
        return torch.device(f"cuda:{self.local_rank}") if torch.cuda.is_available() else torch.device("cpu")

    def init(self, device: torch.device) -> None:
        """``init_process_group`` (NCCL on CUDA, gloo on CPU); a no-op for one process."""
        if not self.distributed:
            return
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def all_finite(self, loss: torch.Tensor) -> bool:
        """Whether ``loss`` is finite on every rank (one all-reduce under DDP)."""
        ok = torch.isfinite(loss.detach()).all().float().reshape(1)
        if self.distributed:
            dist.all_reduce(ok, op=dist.ReduceOp.MIN)
        return ok.item() >= 1

    def destroy(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def wrap_ddp(model: torch.nn.Module, ctx: DistContext, device: torch.device) -> torch.nn.Module:
    """``model`` under DDP when distributed, else ``model`` itself."""
    if not ctx.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    # YOLOX keeps BN buffers rank-local during the forward (and all-reduces them before eval)
    params = inspect.signature(DDP).parameters
    no_sync = {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
    return DDP(model, device_ids=ids, **no_sync)
