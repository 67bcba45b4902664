"""The task registry is the one place a target is described: heads, data, zoo names and configurations agree
with it."""
import pytest

from xatom.data.qm9 import QM9
from xatom.models.heads import HEADS
from xatom.tasks import TASKS, task, task_of_key, task_of_zoo_name
from xatom.training import TrainingConfig
from xatom.zoo import model_name, split_name


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_has_a_head_that_predicts_its_keys(name):
    spec = TASKS[name]
    head = HEADS[name]
    assert (head.target, head.latent) == (spec.key, spec.latent)
    assert task_of_key(spec.key) is spec and task(name) is spec


@pytest.mark.parametrize("name", [n for n, t in TASKS.items() if t.dataset == "qm9"])
def test_qm9_tasks_name_the_data_attribute_of_their_references(name):
    assert TASKS[name].key in QM9.__dataclass_fields__


@pytest.mark.parametrize("name", sorted(TASKS))
def test_zoo_names_round_trip_through_the_registry(name):
    zoo_name = model_name("schnet", name)
    kind, what, elementref = split_name(zoo_name)
    assert kind == "schnet" and not elementref and task_of_zoo_name(what).name == name


def test_unknown_names_and_mismatched_data_sets_are_named():
    with pytest.raises(ValueError, match="unknown target 'charge'"):
        task("charge")
    with pytest.raises(ValueError, match="no task predicts 'energy_ev'"):
        task_of_key("energy_ev")
    with pytest.raises(ValueError, match="no task is called 'polarizability'"):
        task_of_zoo_name("polarizability")
    with pytest.raises(ValueError, match="trains on 'qm9', not on 'crystals'"):
        TrainingConfig(target="dipole", dataset="crystals")
