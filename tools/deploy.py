"""Upload build/site to an S3 bucket as a public static website (`make deploy BUCKET=…`).

    python -m tools.deploy --bucket NAME [--prefix PATH] [--endpoint-url URL] [--region R]

Every object gets an explicit Content-Type, Content-Encoding (for gzip-stored files) and
Cache-Control from build/site-files.json (written by tools/site.py from the shared table in
tools/mime.py). Objects whose bytes (ETag = MD5 of a single-part upload) and headers already
match are skipped, so a second deploy uploads nothing. index.html goes last: until it is
replaced, visitors keep loading the previous page, whose files are all still there.
Credentials come only from boto3's standard chain (environment, ~/.aws, instance role);
this tool never reads or writes them itself.
"""
import argparse
import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor

from tools.site import FILE_LIST, OUT, PAGE

UPLOAD_THREADS = 8
INDEX_DOCUMENT = "index.html"


class DeployError(Exception):
    pass


def s3_client(endpoint_url=None, region=None):
    import boto3  # imported here so `--help` and the site build do not need it
    session = boto3.session.Session(region_name=region)
    return session.client("s3", endpoint_url=endpoint_url or None)


def object_key(prefix, path):
    return f"{prefix.strip('/')}/{path}" if prefix.strip("/") else path


def ensure_bucket(s3, bucket, region):
    from botocore.exceptions import ClientError
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise
    options = {"Bucket": bucket}
    if region and region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**options)
    return True


def public_read_statement(bucket, prefix):
    sid = "FalkenPublicRead" + "".join(c for c in prefix.title() if c.isalnum())
    return {"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{object_key(prefix, '*')}"}


def configure_website(s3, bucket, prefix):
    """Public read for this prefix (other statements, e.g. other prefixes, are kept) + index doc."""
    from botocore.exceptions import ClientError
    try:  # new AWS buckets block public policies; moto and older buckets may not have the block
        s3.delete_public_access_block(Bucket=bucket)
    except ClientError:
        pass
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        policy = {"Version": "2012-10-17", "Statement": []}
    statement = public_read_statement(bucket, prefix)
    policy["Statement"] = [st for st in policy.get("Statement", []) if st.get("Sid") != statement["Sid"]]
    policy["Statement"].append(statement)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": INDEX_DOCUMENT}})


def wanted_headers(entry):
    headers = {"ContentType": entry["content_type"], "CacheControl": entry["cache_control"]}
    if entry["content_encoding"]:
        headers["ContentEncoding"] = entry["content_encoding"]
    return headers


def is_current(s3, bucket, key, entry, etags):
    """True if the object already holds these bytes with these headers."""
    if etags.get(key) != entry["md5"]:
        return False
    head = s3.head_object(Bucket=bucket, Key=key)
    have = {"ContentType": head.get("ContentType"), "CacheControl": head.get("CacheControl")}
    if head.get("ContentEncoding"):
        have["ContentEncoding"] = head["ContentEncoding"]
    return have == wanted_headers(entry)


def existing_etags(s3, bucket, prefix):
    etags = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix.strip("/")):
        for item in page.get("Contents", []):
            etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def load_site(out=None, file_list=None):
    out, file_list = out or OUT, file_list or FILE_LIST  # looked up at call time (tests patch them)
    if not file_list.exists():
        raise DeployError(f"{file_list} is missing: run `make site` first")
    entries = json.loads(file_list.read_text())["files"]
    for entry in entries:
        data = (out / entry["path"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise DeployError(f"build/site/{entry['path']} does not match the file list: run `make site`")
        entry["md5"] = hashlib.md5(data).hexdigest()
    if not any(e["path"] == PAGE for e in entries):
        raise DeployError(f"the site has no {PAGE}")
    return entries


def deploy(bucket, *, prefix="", endpoint_url=None, region=None, out=None, file_list=None,
           say=print):
    """Upload the built site; returns {"uploaded", "unchanged", "bytes_uploaded", "objects", "bytes"}."""
    if not bucket:
        raise DeployError("no bucket: make deploy BUCKET=name [AWS_ENDPOINT_URL=url] [PREFIX=path]")
    out = out or OUT
    entries = load_site(out, file_list)
    s3 = s3_client(endpoint_url, region)
    if ensure_bucket(s3, bucket, region or s3.meta.region_name):
        say(f"deploy: created bucket {bucket}")
    configure_website(s3, bucket, prefix)
    etags = existing_etags(s3, bucket, prefix)

    def upload(entry):
        key = object_key(prefix, entry["path"])
        if is_current(s3, bucket, key, entry, etags):
            return None
        body = (out / entry["path"]).read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=_base64_md5(entry["md5"]),
                      **wanted_headers(entry))
        return len(body)  # 0 for an empty file, which was still uploaded

    page = [e for e in entries if e["path"] == PAGE]
    rest = [e for e in entries if e["path"] != PAGE]
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        sizes = list(pool.map(upload, rest))
    sizes += [upload(page[0])]  # last: the new page appears only once all it needs is there
    uploaded = [n for n in sizes if n is not None]
    result = {"objects": len(entries), "bytes": sum(e["bytes"] for e in entries),
              "uploaded": len(uploaded), "bytes_uploaded": sum(uploaded),
              "unchanged": len(entries) - len(uploaded)}
    say(f"deploy: s3://{bucket}/{prefix.strip('/')} — {result['uploaded']} uploaded "
        f"({result['bytes_uploaded'] / 1e6:.2f} MB), {result['unchanged']} unchanged, "
        f"{result['objects']} objects / {result['bytes'] / 1e6:.2f} MB in all")
    return result


def _base64_md5(hex_digest):
    import base64
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--endpoint-url", default=None,
                        help="an S3-compatible endpoint (else AWS_ENDPOINT_URL or AWS itself)")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    try:
        deploy(args.bucket, prefix=args.prefix, endpoint_url=args.endpoint_url, region=args.region)
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # botocore: no credentials, access denied, endpoint down…
        print(f"deploy: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
