"""NetworkPolicies admit the traffic each service needs and nothing else.

The policies of a built overlay are evaluated the way Kubernetes does (policies select pods by
label; a selected pod admits the union of their rules; peers by pod, namespace or IP block) over
a small universe of endpoints: the operators' pods as they label them, the other services, a pod
elsewhere, addresses on the internet and in private ranges. The admitted set must equal what each
service needs: DNS, the Kafka brokers' TLS listener, MongoDB; notify also HTTPS to webhooks
outside private ranges; in: HTTP from the ingress controller and Prometheus. Status data leaves
only through the webhooks notify delivers and the national mirror (R52); a province's Kafka is
reached from outside its namespace by the hub's MirrorMaker alone (R50).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest
from deploy_facts import OVERLAYS, Built

POD_NETWORK = "10.244.0.0/16"


@dataclass(frozen=True)
class Endpoint:
    name: str
    namespace: str | None  # None: outside the cluster
    labels: dict[str, str] = field(default_factory=dict)
    ip: str = "10.244.1.10"
    namespace_labels: dict[str, str] = field(default_factory=dict)


def universe(build: Built, namespace: str) -> list[Endpoint]:
    kafka = build.of_kind("Kafka")[0]["metadata"]["name"]
    mdb = build.of_kind("MongoDBCommunity")[0]["metadata"]["name"]
    strimzi = {"strimzi.io/cluster": kafka, "strimzi.io/kind": "Kafka", "strimzi.io/name": f"{kafka}-kafka"}
    endpoints = [
        Endpoint("dns", "kube-system", {"k8s-app": "kube-dns"}),
        Endpoint("kafka-broker", namespace, {**strimzi, "strimzi.io/broker-role": "true"}),
        Endpoint("kafka-controller", namespace, {**strimzi, "strimzi.io/controller-role": "true"}),
        Endpoint("mongodb", namespace, {"app": f"{mdb}-svc"}),
        Endpoint("ingress-controller", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
        Endpoint("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"}),
        Endpoint("pod-elsewhere", "default", {"app": "web"}),
        Endpoint("internet", None, ip="203.0.113.10"),
        Endpoint("private-network", None, ip="192.168.10.5"),
        Endpoint("cloud-metadata", None, ip="169.254.169.254"),
    ]
    for deployment in build.of_kind("Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        endpoints.append(Endpoint(f"service:{deployment['metadata']['name']}", namespace, labels))
    return endpoints


PORTS = [(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP"), (8080, "TCP"), (9093, "TCP"), (27017, "TCP")]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        present, value = expression["key"] in labels, labels.get(expression["key"])
        if not {
            "In": present and value in expression.get("values", []),
            "NotIn": not present or value not in expression.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[expression["operator"]]:
            return False
    return True


def peer_admits(peer: dict[str, Any], policy_namespace: str, endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        ip = ipaddress.ip_address(endpoint.ip)
        block = peer["ipBlock"]
        inside = ip in ipaddress.ip_network(block["cidr"])
        return inside and not any(ip in ipaddress.ip_network(e) for e in block.get("except", []))
    if endpoint.namespace is None:
        return False
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": endpoint.namespace, **endpoint.namespace_labels}
        if not selects(peer["namespaceSelector"], namespace_labels):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), endpoint.labels)


def port_admits(rule_ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if rule_ports is None:
        return True
    return any(p.get("port", port) == port and p.get("protocol", "TCP") == protocol for p in rule_ports)


def admitted(
    policies: list[dict[str, Any]], labels: dict[str, str], everyone: list[Endpoint], direction: str
) -> set[tuple[str, int, str]] | None:
    """(endpoint, port, protocol) a pod admits in one direction, or None if no policy isolates it."""
    kind, peers_key = ("Egress", "to") if direction == "egress" else ("Ingress", "from")
    selecting = [p for p in policies if selects(p["spec"]["podSelector"], labels) and kind in p["spec"]["policyTypes"]]
    if not selecting:
        return None
    allowed = set()
    for policy in selecting:
        for rule in policy["spec"].get(direction, []):
            for endpoint in everyone:
                admits = any(peer_admits(peer, policy["metadata"]["namespace"], endpoint) for peer in rule[peers_key])
                if admits:
                    allowed |= {
                        (endpoint.name, p, proto) for p, proto in PORTS if port_admits(rule.get("ports"), p, proto)
                    }
    return allowed


NEEDS_OUT = {
    ("dns", 53, "UDP"),
    ("dns", 53, "TCP"),
    ("kafka-broker", 9093, "TCP"),
    ("mongodb", 27017, "TCP"),
}
WEBHOOKS_OUT = {("internet", 443, "TCP")}
NEEDS_IN = {("ingress-controller", 8080, "TCP"), ("prometheus", 8080, "TCP")}


def namespace_of(build: Built) -> str:
    namespace: str = build.of_kind("Deployment")[0]["metadata"]["namespace"]
    return namespace


def policies_and_endpoints(build: Built) -> tuple[list[Any], list[Endpoint]]:
    """The overlay's network policies, and every endpoint in and around its namespace."""
    return build.of_kind("NetworkPolicy"), universe(build, namespace_of(build))


def services(built: dict[str, Built], overlay: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"]["metadata"]["labels"])
        for d in built[overlay].of_kind("Deployment")
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rule_names_its_peers_and_ports(built: dict[str, Built], overlay: str) -> None:
    for policy in built[overlay].of_kind("NetworkPolicy"):
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(direction, []):
                assert rule.get(peers_key), f"{policy['metadata']['name']}: a {direction} rule open to everyone"
                assert rule.get("ports"), f"{policy['metadata']['name']}: a {direction} rule open on every port"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_reach_only_what_they_need(built: dict[str, Built], overlay: str) -> None:
    policies, everyone = policies_and_endpoints(built[overlay])
    for name, labels in services(built, overlay):
        expected = NEEDS_OUT | (WEBHOOKS_OUT if name == "notify" else set())
        assert admitted(policies, labels, everyone, "egress") == expected, f"{overlay} {name} egress"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_are_reached_only_by_ingress_and_prometheus(built: dict[str, Built], overlay: str) -> None:
    policies, everyone = policies_and_endpoints(built[overlay])
    for name, labels in services(built, overlay):
        assert admitted(policies, labels, everyone, "ingress") == NEEDS_IN, f"{overlay} {name} ingress"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mongodb_admits_only_the_services_and_its_members(built: dict[str, Built], overlay: str) -> None:
    build = built[overlay]
    namespace = namespace_of(build)
    everyone = universe(build, namespace)
    mongodb = next(e for e in everyone if e.name == "mongodb")
    allowed = admitted(build.of_kind("NetworkPolicy"), mongodb.labels, everyone, "ingress")
    expected = {("mongodb", 27017, "TCP")} | {(f"service:{n}", 27017, "TCP") for n, _ in services(built, overlay)}
    assert allowed == expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_listener_admits_the_services(built: dict[str, Built], overlay: str) -> None:
    """Strimzi turns each listener's networkPolicyPeers into the brokers' NetworkPolicy (R50: only the hub mirrors)."""
    build = built[overlay]
    namespace = namespace_of(build)
    everyone = universe(build, namespace)
    mirror = Endpoint("mirrormaker", namespace, {"strimzi.io/kind": "KafkaMirrorMaker2"})
    hub_mirror = Endpoint("hub-mirrormaker", "xueji-national", {"strimzi.io/kind": "KafkaMirrorMaker2"})
    everyone += [mirror, hub_mirror] if overlay != "national" else [mirror]
    # R52: a registered subscriber's namespace is labelled for it; any other namespace stays outside.
    subscriber = Endpoint(
        "subscriber", "exam-registration", namespace_labels={"xueji.edu.cn/status-subscriber": "true"}
    )
    everyone += [subscriber, Endpoint("stranger", "school-health")]
    (kafka,) = build.of_kind("Kafka")
    reached = {}
    for listener in kafka["spec"]["kafka"]["listeners"]:
        peers = listener["networkPolicyPeers"]
        reached[listener["name"]] = {e.name for e in everyone if any(peer_admits(p, namespace, e) for p in peers)}
    service_names = {f"service:{n}" for n, _ in services(built, overlay)}
    if overlay == "national":  # R52: subscribers read a province's feed; the hub has no identity for them
        assert reached == {"tls": service_names | {"mirrormaker"}}
    else:
        assert reached == {"tls": service_names | {"subscriber"}, "interprov": {"hub-mirrormaker"}}


def test_the_evaluator_sees_an_open_policy() -> None:
    """The checks above can fail: a policy without peers would admit the pod elsewhere."""
    policy = {
        "metadata": {"namespace": "x"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {}}]}]},
    }
    everyone = [Endpoint("pod-elsewhere", "default", {"app": "web"})]
    assert ("pod-elsewhere", 8080, "TCP") in (admitted([policy], {}, everyone, "egress") or set())
