"""Mamba's selective scan in plain PyTorch (no CUDA kernels, no Triton).

Discretised SSM (Gu & Dao 2023, Algorithm 2; B discretised by Euler as in the reference):

    h_t = exp(delta_t * A) * h_{t-1} + delta_t * B_t * u_t
    y_t = <C_t, h_t> + D * u_t

Shapes: u, delta (b, l, d); A (d, n); B, C (b, l, n); D (d,); h0 (b, d, n) or None.
Returns y (b, l, d) and the last state h_l (b, d, n).

:func:`selective_scan` dispatches: on CPU, :func:`selective_scan_sequential` (discretisation
for all steps at once, then ``l`` cheap multiply-adds: fastest for TrackSSM's short sequences
on CPU, measured: 1.8 ms vs 26 ms for the parallel form at 45 tracks x 5 steps x 128 x 16);
on GPU, :func:`selective_scan_parallel`: with S_t = sum_{r<=t} delta_r A (a cumulative sum in
log space), h_t = sum_{s<=t} exp(S_t - S_s) delta_s B_s u_s + exp(S_t) h0 for all t at once
over an (l x l) lower-triangular decay (every exponent <= 0, so stable; O(l^2) memory, one
kernel per op instead of one per step). :func:`selective_scan_loop` is the naive per-step
recurrence both are tested against.
"""

from __future__ import annotations

import torch


def selective_scan(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Selective scan, the fastest form for the device (see module docstring)."""
    if u.is_cuda:
        return selective_scan_parallel(u, delta, A, B, C, D, h0)
    return selective_scan_sequential(u, delta, A, B, C, D, h0)


def selective_scan_sequential(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Discretise every step at once, then run the recurrence with one multiply-add per step."""
    b, l, d = u.shape
    dA = torch.exp(delta.unsqueeze(-1) * A)  # (b, l, d, n)
    dBu = (delta * u).unsqueeze(-1) * B.unsqueeze(2)
    h = dBu[:, 0] if h0 is None else torch.addcmul(dBu[:, 0], dA[:, 0], h0)
    hs = [h]
    for t in range(1, l):
        h = torch.addcmul(dBu[:, t], dA[:, t], h)
        hs.append(h)
    y = (torch.stack(hs, dim=1) @ C.unsqueeze(-1)).squeeze(-1)  # (b, l, d)
    return torch.addcmul(y, u, D), h


def selective_scan_parallel(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Parallel selective scan over a lower-triangular decay (see module docstring)."""
    b, l, d = u.shape
    dA = delta.unsqueeze(-1) * A  # (b, l, d, n), <= 0
    S = torch.cumsum(dA, dim=1)
    # decay[b, t, s, d, n] = exp(S_t - S_s) for s <= t, 0 above the diagonal.
    diff = S.unsqueeze(2) - S.unsqueeze(1)
    mask = torch.ones(l, l, dtype=torch.bool, device=u.device).tril()
    diff = diff.masked_fill(~mask.view(1, l, l, 1, 1), float("-inf"))
    decay = torch.exp(diff)
    dBu = (delta * u).unsqueeze(-1) * B.unsqueeze(2)  # (b, l, d, n)
    h = torch.einsum("btsdn,bsdn->btdn", decay, dBu)
    if h0 is not None:
        h = h + torch.exp(S) * h0.unsqueeze(1)
    y = torch.einsum("btdn,btn->btd", h, C) + u * D
    return y, h[:, -1]


def selective_scan_loop(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    h0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference recurrence, one time step at a time."""
    b, l, d = u.shape
    h = h0 if h0 is not None else u.new_zeros(b, d, A.shape[1])
    ys = []
    for t in range(l):
        h = torch.exp(delta[:, t].unsqueeze(-1) * A) * h + (delta[:, t] * u[:, t]).unsqueeze(-1) * B[:, t].unsqueeze(1)
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, t]))
    y = torch.stack(ys, dim=1) + u * D
    return y, h


def ssm_step(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    h: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One scan step (sequence length 1): u, delta (b, d); B, C (b, n); h (b, d, n) or None."""
    dBu = (delta * u).unsqueeze(-1) * B.unsqueeze(1)
    h = dBu if h is None else torch.addcmul(dBu, torch.exp(delta.unsqueeze(-1) * A), h)
    return torch.addcmul((h @ C.unsqueeze(-1)).squeeze(-1), u, D), h
