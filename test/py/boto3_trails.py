"""Drives opentrail with boto3 as a user would: trails, selectors, tags, logging, event history, errors.

Run by test/api/boto3.test.ts with OPENTRAIL_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_DEFAULT_REGION set; exits non-zero (an AssertionError) on the first check that fails.
"""

import datetime
import json
import os
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["OPENTRAIL_ENDPOINT"]
REGION = os.environ["AWS_DEFAULT_REGION"]
TRAIL = "boto3-trail"
BUCKET = "boto3-trail-bucket"
HISTORY_WAIT_SECONDS = 5.0


def check(what):
    print(f"ok - {what}", flush=True)


def main():
    ct = boto3.client(
        "cloudtrail",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}),
    )

    created = ct.create_trail(Name=TRAIL, S3BucketName=BUCKET)
    arn = created["TrailARN"]
    assert arn.startswith(f"arn:aws:cloudtrail:{REGION}:") and arn.endswith(f":trail/{TRAIL}"), arn
    assert created["Name"] == TRAIL and created["S3BucketName"] == BUCKET, created
    check(f"create_trail returned {arn}")

    trail = ct.get_trail(Name=TRAIL)["Trail"]
    assert trail["TrailARN"] == arn and trail["HomeRegion"] == REGION, trail
    assert trail["IsMultiRegionTrail"] is False, trail
    check("get_trail returned the trail with its home Region")

    described = ct.describe_trails()
    assert "trailList" in described, described.keys()
    assert [t["Name"] for t in described["trailList"]] == [TRAIL], described["trailList"]
    named = ct.describe_trails(trailNameList=[arn], includeShadowTrails=False)["trailList"]
    assert [t["TrailARN"] for t in named] == [arn], named
    check("describe_trails answered with camelCase trailList, by default and by trailNameList")

    listed = ct.list_trails()["Trails"]
    assert {"TrailARN": arn, "Name": TRAIL, "HomeRegion": REGION} in listed, listed
    check("list_trails listed the trail")

    selectors = [
        {
            "ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": True,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{BUCKET}/"]}],
        }
    ]
    put = ct.put_event_selectors(TrailName=TRAIL, EventSelectors=selectors)
    assert put["TrailARN"] == arn, put
    got = ct.get_event_selectors(TrailName=TRAIL)
    assert got["TrailARN"] == arn, got
    assert got["EventSelectors"][0]["ReadWriteType"] == "WriteOnly", got
    assert got["EventSelectors"][0]["DataResources"] == selectors[0]["DataResources"], got
    check("put_event_selectors / get_event_selectors round-tripped the selectors")

    ct.add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "audit"}])
    tags = ct.list_tags(ResourceIdList=[arn])["ResourceTagList"]
    assert tags == [{"ResourceId": arn, "TagsList": [{"Key": "team", "Value": "audit"}]}], tags
    check("add_tags / list_tags round-tripped the tag")

    ct.start_logging(Name=TRAIL)
    started = ct.get_trail_status(Name=TRAIL)
    assert started["IsLogging"] is True, started
    start_time = started["StartLoggingTime"]
    assert isinstance(start_time, datetime.datetime), type(start_time)
    assert start_time.tzinfo is not None, start_time
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - start_time).total_seconds()) < 60, (now, start_time)
    ct.stop_logging(Name=TRAIL)
    stopped = ct.get_trail_status(Name=TRAIL)
    assert stopped["IsLogging"] is False, stopped
    assert isinstance(stopped["StopLoggingTime"], datetime.datetime), stopped
    assert stopped["StopLoggingTime"] >= start_time, stopped
    check(f"start_logging / stop_logging; get_trail_status timestamps are datetimes ({start_time.isoformat()})")

    wanted = {"CreateTrail", "PutEventSelectors", "AddTags", "StartLogging", "StopLogging"}
    found, events = lookup_until(ct, wanted)
    assert wanted <= found, f"event history lacks {wanted - found}; it has {found}"
    created_events = [e for e in events if e["EventName"] == "CreateTrail"]
    assert isinstance(created_events[0]["EventTime"], datetime.datetime), created_events[0]
    record = json.loads(created_events[0]["CloudTrailEvent"])
    assert record["eventSource"] == "cloudtrail.amazonaws.com", record
    assert record["awsRegion"] == REGION, record
    assert "Boto3" in record["userAgent"], record["userAgent"]
    assert record["requestParameters"]["name"] == TRAIL, record["requestParameters"]
    check(f"lookup_events paginator found {sorted(wanted)} in {len(events)} events")

    by_name = ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}]
    )
    names = {e["EventName"] for page in by_name for e in page["Events"]}
    assert names == {"CreateTrail"}, names
    check("lookup_events by EventName returned only CreateTrail events")

    try:
        ct.get_trail(Name="no-such-trail")
        raise AssertionError("get_trail of a missing trail succeeded")
    except ct.exceptions.TrailNotFoundException as error:
        assert error.response["Error"]["Code"] == "TrailNotFoundException", error.response
        assert "no-such-trail" in error.response["Error"]["Message"], error.response
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error.response
        assert isinstance(error, ClientError)
    check("get_trail of a missing trail raised ClientError TrailNotFoundException (400)")

    ct.delete_trail(Name=TRAIL)
    assert ct.describe_trails()["trailList"] == []
    check("delete_trail removed the trail")


def lookup_until(ct, wanted):
    """Pages through event history (2 events a page, to follow NextToken) until it holds `wanted`."""
    deadline = time.monotonic() + HISTORY_WAIT_SECONDS
    while True:
        pages = ct.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 2})
        events = [e for page in pages for e in page["Events"]]
        found = {e["EventName"] for e in events}
        if wanted <= found or time.monotonic() > deadline:
            return found, events
        time.sleep(0.1)


if __name__ == "__main__":
    main()
    print("all boto3 checks passed", flush=True)
