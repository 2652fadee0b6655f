import pytest
import torch

from graphad.exceptions import GraphadInputError
from graphad.utils import import_optional, resolve, resolve_device, seed_everything


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_seed_everything_repeats():
    seed_everything(3)
    a = torch.rand(4)
    seed_everything(3)
    assert torch.equal(a, torch.rand(4))
    g1, g2 = seed_everything(5), seed_everything(5)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))


def test_import_optional_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'graphad\[logs\]'"):
        import_optional("surely_not_a_module_xyz", "logs")


def test_resolve_unknown_lists_choices():
    with pytest.raises(
        GraphadInputError, match=r"Could not resolve 'x' among choices \['a', 'b'\]"
    ):
        resolve("x", {"a": 1, "b": 2})
    assert resolve(len, {"a": 1}) is len
