"""Calls other AWS services through opentrail's recording proxy with boto3, one protocol each: EC2's query
dialect, SNS (query), SQS and KMS (JSON), Lambda (REST-JSON), S3 (REST-XML, a multipart upload).

Run by test/proxy/proxy-protocols.test.ts with OPENTRAIL_ENDPOINT and the caller's credentials in the
environment; prints one JSON object of what the calls returned, for the test to compare with the records.
"""

import json
import os

import boto3
from botocore.config import Config

ENDPOINT = os.environ["OPENTRAIL_ENDPOINT"]
CONFIG = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})


def client(name):
    return boto3.client(name, endpoint_url=ENDPOINT, region_name="us-east-1", config=CONFIG)


def main():
    out = {}
    ec2 = client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    reservation = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    out["instanceId"] = reservation["Instances"][0]["InstanceId"]

    sns = client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.publish(TopicArn=topic, Message="hello")
    out["topicArn"] = topic

    sqs = client("sqs")
    queue = sqs.create_queue(
        QueueName="jobs", Attributes={"VisibilityTimeout": "40"}, tags={"Team": "payments"}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="the-job-body")

    kms = client("kms")
    key = kms.create_key(Description="app key")["KeyMetadata"]["KeyId"]
    out["ciphertextLength"] = len(kms.encrypt(KeyId=key, Plaintext=b"the plaintext secret")["CiphertextBlob"])

    client("lambda").list_functions()

    s3 = client("s3")
    s3.create_bucket(Bucket="uploads")
    upload = s3.create_multipart_upload(Bucket="uploads", Key="big.bin")["UploadId"]
    part = s3.upload_part(Bucket="uploads", Key="big.bin", UploadId=upload, PartNumber=1, Body=b"x" * (5 * 1024 * 1024))
    s3.complete_multipart_upload(
        Bucket="uploads",
        Key="big.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    out["size"] = s3.head_object(Bucket="uploads", Key="big.bin")["ContentLength"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
