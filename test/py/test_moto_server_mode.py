"""Tests written for moto's server mode, as moto's users write them: `@mock_aws` with TEST_SERVER_MODE=true sends
every boto3 client to TEST_SERVER_MODE_ENDPOINT and calls POST /moto-api/reset before each test.

test/proxy/moto-mode.test.ts runs this file unchanged against `opentrail --moto`, which serves CloudTrail itself
and forwards S3 and SNS to its moto_server while recording every call.
"""

import gzip
import json
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

REGION = "us-east-1"
ACCOUNT = "123456789012"


def client(name):
    return boto3.client(name, region_name=REGION)


@mock_aws
def test_each_test_starts_without_trails():
    assert client("cloudtrail").describe_trails()["trailList"] == []
    client("s3").create_bucket(Bucket="left-behind")
    client("cloudtrail").create_trail(Name="left-behind", S3BucketName="left-behind")


@mock_aws
def test_create_trail_in_a_bucket_made_with_s3():
    assert client("cloudtrail").describe_trails()["trailList"] == []
    client("s3").create_bucket(Bucket="trail-bucket")
    trail = client("cloudtrail").create_trail(Name="mytrail", S3BucketName="trail-bucket")
    assert trail["Name"] == "mytrail"
    assert trail["TrailARN"] == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/mytrail"
    described = client("cloudtrail").describe_trails(trailNameList=["mytrail"])["trailList"]
    assert [t["S3BucketName"] for t in described] == ["trail-bucket"]


@mock_aws
def test_create_trail_without_a_bucket_fails():
    with pytest.raises(ClientError) as e:
        client("cloudtrail").create_trail(Name="mytrail", S3BucketName="no-such-bucket")
    assert e.value.response["Error"]["Code"] == "S3BucketDoesNotExistException"


@mock_aws
def test_trail_with_an_sns_topic_made_with_sns():
    client("s3").create_bucket(Bucket="trail-bucket")
    topic = client("sns").create_topic(Name="cloudtrail-topic")["TopicArn"]
    trail = client("cloudtrail").create_trail(
        Name="notified", S3BucketName="trail-bucket", SnsTopicName="cloudtrail-topic"
    )
    assert trail["SnsTopicARN"] == topic
    topics = [t["TopicArn"] for t in client("sns").list_topics()["Topics"]]
    assert topic in topics


@mock_aws
def test_logging_starts_and_stops():
    client("s3").create_bucket(Bucket="trail-bucket")
    ct = client("cloudtrail")
    ct.create_trail(Name="logged", S3BucketName="trail-bucket")
    assert ct.get_trail_status(Name="logged")["IsLogging"] is False
    ct.start_logging(Name="logged")
    assert ct.get_trail_status(Name="logged")["IsLogging"] is True
    ct.stop_logging(Name="logged")
    assert ct.get_trail_status(Name="logged")["IsLogging"] is False


@mock_aws
def test_s3_objects_round_trip():
    s3 = client("s3")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket="data", Key="a/b.txt")["Body"].read() == b"hello"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="data")["Contents"]]
    assert keys == ["a/b.txt"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="data", Key="missing")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"


@mock_aws
def test_trail_delivers_log_files_into_the_moto_bucket():
    s3 = client("s3")
    s3.create_bucket(Bucket="audit")
    ct = client("cloudtrail")
    ct.create_trail(Name="audit", S3BucketName="audit")
    ct.start_logging(Name="audit")
    s3.create_bucket(Bucket="recorded-bucket")
    prefix = f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/"
    names = set()
    deadline = time.time() + 20
    while "CreateBucket" not in names and time.time() < deadline:
        time.sleep(0.5)
        for obj in s3.list_objects_v2(Bucket="audit", Prefix=prefix).get("Contents", []):
            body = s3.get_object(Bucket="audit", Key=obj["Key"])["Body"].read()
            names.update(r["eventName"] for r in json.loads(gzip.decompress(body))["Records"])
    assert "CreateBucket" in names, names


@mock_aws
def test_presigned_urls_work_and_tampered_ones_do_not():
    s3 = boto3.client("s3", region_name=REGION, config=Config(signature_version="s3v4"))
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="k", Body=b"v")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "k"}, ExpiresIn=60)
    assert requests.get(url).content == b"v"
    upload = s3.generate_presigned_url("put_object", Params={"Bucket": "shared", "Key": "up"}, ExpiresIn=60)
    assert requests.put(upload, data=b"new").status_code == 200
    assert s3.get_object(Bucket="shared", Key="up")["Body"].read() == b"new"
    other_key = url.replace("/shared/k?", "/shared/up?")
    assert requests.get(other_key).status_code == 403
    # A presign parameter given twice is refused: only one of them could be the one checked.
    doubled = requests.get(url + "&X-Amz-Signature=" + "0" * 64)
    assert doubled.status_code == 400 and b"only once" in doubled.content, doubled.content
    # S3's name for a malformed presigned query, not the one for a malformed Authorization header.
    assert b"<Code>AuthorizationQueryParametersError</Code>" in doubled.content, doubled.content
    # Signature Version 2 (botocore's default for us-east-1 presigns) is refused, saying what to use instead.
    v2 = client("s3").generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "k"}, ExpiresIn=60)
    refused = requests.get(v2)
    assert refused.status_code == 400 and b"AWS4-HMAC-SHA256" in refused.content, refused.content
