"""Data-parallel training (DistributedDataParallel, gloo on CPU, 2 processes) matches one process."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from xatom.checkpoint import read_checkpoint
from xatom.training import TrainingConfig, train

CONFIG = dict(model="schnet", target="energy", n_train=200, batch_size=100, seed=3,
              architecture={"n_features": 16, "n_filters": 16, "n_interactions": 1, "readout_hidden": [8]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, run_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank))
    torch.set_num_threads(1)
    train(run_dir, TrainingConfig(**CONFIG), max_steps=2, progress=False)
    torch.distributed.destroy_process_group()


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch without distributed support")
def test_two_process_ddp_equals_single_process(tmp_path, qm9):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)
    train(tmp_path / "single", TrainingConfig(**CONFIG), data=qm9, max_steps=2, progress=False)
    ddp = read_checkpoint(tmp_path / "ddp" / "last.pt")
    single = read_checkpoint(tmp_path / "single" / "last.pt")
    assert ddp["train_state"]["step"] == single["train_state"]["step"] == 2
    for name, value in single["state_dict"].items():
        torch.testing.assert_close(ddp["state_dict"][name], value, rtol=1e-4, atol=1e-5, msg=name)
