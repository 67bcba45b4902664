"""Continuous-filter convolution with a tabulated filter: a fused C++ kernel and its pure-torch twin.

    out_i = Σ_{p: recv_p = i} h_{send_p} ∘ lerp(T[k_p], T[k_p + 1], f_p)

where T is the filter table on a distance grid, k_p the grid cell of pair p and f_p ∈ [0, 1) the position
inside it. The kernel (in ``kernels.cpp``, see :mod:`xatom.models.kernels`) never materialises the
(n_pairs × n_filters) filter tensor; the pure-torch path (:func:`cfconv_torch`) computes the same thing and serves where no compiler is present or
``XATOM_NO_KERNEL=1`` is set. Tests check that both agree, values and gradients.
"""
from __future__ import annotations

import torch

from .kernels import kernels as _kernel
from .kernels import unavailable_reason


class PairIndex:
    """Pair bookkeeping shared by all interaction layers: CSR by receiver and by sender.

    Args:
        idx_recv, idx_send: receiver and sender of every pair; pairs must be sorted by receiver.
        n_recv, n_send: number of receiving and sending atoms.
    """

    def __init__(self, idx_recv: torch.Tensor, idx_send: torch.Tensor, n_recv: int, n_send: int):
        if idx_recv.numel() > 1 and bool((idx_recv[1:] < idx_recv[:-1]).any()):
            raise ValueError("pairs must be sorted by receiver")
        self.idx_recv, self.idx_send, self.n_recv, self.n_send = idx_recv, idx_send, n_recv, n_send
        self.recv_ptr = _ptr(idx_recv, n_recv)
        self.send_perm = torch.argsort(idx_send, stable=True)
        self.send_ptr = _ptr(idx_send, n_send)


def _ptr(idx: torch.Tensor, n: int) -> torch.Tensor:
    ptr = torch.zeros(n + 1, dtype=torch.long, device=idx.device)
    ptr[1:] = torch.cumsum(torch.bincount(idx, minlength=n), 0)
    return ptr


class _TabulatedCFConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, table, frac, k, index: PairIndex):
        h, table, frac = h.contiguous(), table.contiguous(), frac.contiguous()
        ctx.save_for_backward(h, table, frac, k)
        ctx.index = index
        return _kernel().cfconv_forward(h, table, k, frac, index.idx_send, index.recv_ptr)

    @staticmethod
    def backward(ctx, grad_out):
        if torch.is_grad_enabled():
            raise RuntimeError("the fused cfconv kernel has no double backward; set XATOM_NO_KERNEL=1 "
                               "(or model.representation.exact_filters = True) for higher derivatives")
        h, table, frac, k = ctx.saved_tensors
        ix = ctx.index
        grad_h, grad_table, grad_frac = _kernel().cfconv_backward(
            grad_out.contiguous(), h, table, k, frac, ix.idx_send, ix.idx_recv, ix.recv_ptr, ix.send_perm,
            ix.send_ptr, ctx.needs_input_grad[2])
        return grad_h, grad_table, (grad_frac if ctx.needs_input_grad[2] else None), None, None


def cfconv_torch(h: torch.Tensor, table: torch.Tensor, frac: torch.Tensor, k: torch.Tensor,
                 index: PairIndex) -> torch.Tensor:
    """Pure-torch tabulated cfconv (same result as the kernel)."""
    W = torch.lerp(table.index_select(0, k), table.index_select(0, k + 1), frac[:, None])
    messages = h.index_select(0, index.idx_send) * W
    return torch.zeros(index.n_recv, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, index.idx_recv, messages)


def _fused(device: torch.device, dtype: torch.dtype) -> bool:
    return device.type == "cpu" and dtype == torch.float32 and _kernel() is not None


def cfconv_tabulated(h: torch.Tensor, table: torch.Tensor, frac: torch.Tensor, k: torch.Tensor,
                     index: PairIndex) -> torch.Tensor:
    """Tabulated cfconv, with the fused kernel when it is available (CPU, float32)."""
    if _fused(h.device, h.dtype):
        return _TabulatedCFConv.apply(h, table, frac, k, index)
    return cfconv_torch(h, table, frac, k, index)


def cfconv_path(device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> str:
    """Which implementation :func:`cfconv_tabulated` runs (SchNet's tabulated filters), in words.

    Args:
        device: where the features live.
        dtype: their floating-point type.
    """
    device = torch.device(device)
    if _fused(device, dtype):
        return "fused C++ kernel"
    if device.type != "cpu" or dtype != torch.float32:
        dtype_name = str(dtype).removeprefix("torch.")
        return f"plain torch (the fused kernel is for CPU float32, not {device.type} {dtype_name})"
    return f"plain torch (the C++ kernels are unavailable: {unavailable_reason()})"
