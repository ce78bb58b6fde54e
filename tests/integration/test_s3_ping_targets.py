"""S3PingTargets (the ping edge's set of known checks on AWS) against moto's S3 server
over real HTTP: what the edge knows, how fast it learns, and what it does when it cannot
ask."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer
from srvpulse.adapters.ping_targets import S3PingTargets
from srvpulse.adapters.sqs import AwsCredentials
from srvpulse.domain.targets import TargetSet, uuid_target

from tests.alerting_peers import free_port

REGION = "eu-west-1"
KEYS = AwsCredentials("testing", "testing")
A, B, C = (uuid_target(f"5bf66975-d4c7-4bf5-bcc8-b8d8a82ea27{n}") for n in range(3))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(endpoint: str, request: pytest.FixtureRequest) -> str:
    name = f"targets-{abs(hash(request.node.name)) % 10**8}"
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def targets(bucket: str, endpoint: str) -> S3PingTargets:
    return S3PingTargets(bucket, REGION, endpoint_url=endpoint, credentials=lambda: KEYS)


def test_the_edge_knows_what_a_writer_published(bucket: str, endpoint: str) -> None:
    targets(bucket, endpoint).publish(lambda: [A, B])
    edge = targets(bucket, endpoint)
    assert edge.refresh()
    assert (edge.knows(A), edge.knows(B), edge.knows(C)) == (True, True, False)


def test_a_check_published_after_the_edge_loaded_its_copy_is_known_at_once(
    bucket: str, endpoint: str
) -> None:
    writer, edge = targets(bucket, endpoint), targets(bucket, endpoint)
    writer.publish(lambda: [A])
    assert edge.refresh() and edge.knows(C) is False
    writer.publish(lambda: [A, C])  # e.g. the API created C and answered its uuid
    assert edge.knows(C) is True


def test_before_the_first_load_the_edge_cannot_tell_and_loads_in_the_background(
    bucket: str, endpoint: str
) -> None:
    targets(bucket, endpoint).publish(lambda: [A])
    edge = targets(bucket, endpoint)
    assert edge.knows(C) is None  # the first ping of a container is never held up
    assert edge.refresh() and edge.knows(C) is False


def test_nothing_published_or_s3_unreachable_means_cannot_tell(bucket: str, endpoint: str) -> None:
    edge = targets(bucket, endpoint)
    assert edge.refresh() is False and edge.knows(A) is None
    gone = S3PingTargets(
        bucket, REGION, endpoint_url=f"http://127.0.0.1:{free_port()}", credentials=lambda: KEYS
    )
    assert gone.refresh() is False and gone.knows(A) is None
    no_credentials = S3PingTargets(bucket, REGION, endpoint_url=endpoint, credentials=lambda: None)
    assert no_credentials.refresh() is False


def test_a_publish_that_raced_another_reads_the_store_again(bucket: str, endpoint: str) -> None:
    """Writer 1 reads the store (without C), writer 2 publishes [A, C] meanwhile: writer 1's
    conditional write fails, it reads again, and the object ends with C in it."""
    one, two = targets(bucket, endpoint), targets(bucket, endpoint)
    one.publish(lambda: [A])
    reads: list[str] = []

    def slow_read() -> list[str]:
        reads.append("read")
        if len(reads) == 1:
            two.publish(lambda: [A, C])  # C committed and published meanwhile
            return [A]  # what writer 1 had read before C was committed
        return [A, C]

    one.publish(slow_read)
    assert len(reads) == 2
    edge = targets(bucket, endpoint)
    assert edge.refresh() and edge.knows(C) is True


def test_the_object_is_the_encoded_set_and_names_no_uuid(bucket: str, endpoint: str) -> None:
    targets(bucket, endpoint).publish(lambda: [A, B])
    s3 = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    data = s3.get_object(Bucket=bucket, Key="ping-targets/v1")["Body"].read()
    assert TargetSet.decode(data) == TargetSet.of([A, B])
    assert b"5bf66975" not in data
