import pytest

from graphad.exceptions import GraphadInputError
from graphad.graph.rules import k8s_service, resolve_node_rule


@pytest.mark.parametrize(
    "pod, service",
    [
        ("frontend-579b9bff58-t2dbm", "frontend"),
        ("productcatalogservice-668d5f85fb-jhwx9", "productcatalogservice"),
        ("ts-travel2-service-6f8b9c7d5-x2k4p", "ts-travel2-service"),
        ("mongo-0", "mongo"),
        ("plain", "plain"),
    ],
)
def test_k8s_service(pod, service):
    assert k8s_service([pod]).tolist() == [service]


def test_resolve_node_rule():
    assert resolve_node_rule(None)(["a-1"]).tolist() == ["a-1"]
    assert resolve_node_rule("pod")(["cart-7d9f8b6c5d-abcde"]).tolist() == ["cart-7d9f8b6c5d-abcde"]
    with pytest.raises(GraphadInputError, match="Could not resolve 'host'"):
        resolve_node_rule("host")
