"""Upload build/site to an S3 bucket as a public static website (`make deploy BUCKET=…`).

    python -m tools.deploy --bucket NAME [--prefix PATH] [--endpoint-url URL] [--region R] [--prune 1|dry]

Every object gets an explicit Content-Type, Content-Encoding (for gzip-stored files) and
Cache-Control from build/site-files.json (written by tools/site.py from the shared table in
tools/mime.py). Objects whose bytes (ETag = MD5 of a single-part upload) and headers already
match are skipped, so a second deploy uploads nothing. index.html goes last: until it is
replaced, visitors keep loading the previous page, whose files are all still there.
`--prune 1` then deletes the objects under the prefix that the new site no longer has (never
outside it, never before index.html has switched); `--prune dry` only lists them.
The bucket keeps Block Public Access for ACLs; only the two settings that a public-read bucket
policy needs are relaxed (PUBLIC_ACCESS_BLOCK).
Credentials come only from boto3's standard chain (environment, ~/.aws, instance role);
this tool never reads or writes them itself.
"""
import argparse
import hashlib
import json
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from tools.site import FILE_LIST, OUT, PAGE, SERVICE_WORKER

UPLOAD_THREADS = 8
INDEX_DOCUMENT = "index.html"
DELETE_BATCH = 1000  # S3's limit per DeleteObjects call
# A prefix-scoped public-read *policy* is what makes the site public, so BlockPublicPolicy (which
# refuses such a policy) and RestrictPublicBuckets (which ignores it) must be off. ACLs are never
# used: blocking and ignoring public ones keeps any object from being made public another way.
PUBLIC_ACCESS_BLOCK = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                       "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
# Regions whose website endpoint is `s3-website-<region>`; the others use `s3-website.<region>`.
DASHED_WEBSITE_REGIONS = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1",
                          "ap-southeast-2", "ap-northeast-1", "sa-east-1", "us-gov-west-1"}


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


def set_public_access_block(s3, bucket, say):
    """Keep public ACLs blocked and ignored; let a public-read bucket policy work."""
    from botocore.exceptions import ClientError
    try:
        before = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError:  # none set (older buckets, moto); new AWS buckets have all four on
        before = {}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    changed = [f"{k} {'on' if v else 'off'}" for k, v in PUBLIC_ACCESS_BLOCK.items() if before.get(k, False) != v]
    say(f"deploy: Block Public Access on {bucket}: BlockPublicAcls and IgnorePublicAcls on, "
        f"BlockPublicPolicy and RestrictPublicBuckets off (the public-read policy needs them off)"
        + (f"; changed: {', '.join(changed)}" if changed else "; unchanged"))


def configure_website(s3, bucket, prefix, say=print):
    """Public read for this prefix (other statements, e.g. other prefixes, are kept) + index doc."""
    from botocore.exceptions import ClientError
    set_public_access_block(s3, bucket, say)
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


def bucket_region(s3, bucket):
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def site_urls(bucket, prefix, region, endpoint_url=None):
    """(website URL or None, REST URL). The website endpoint serves index documents but only
    plain HTTP; AWS's REST endpoint is HTTPS (a secure context: the service worker runs) and
    needs the page's full name."""
    folder = object_key(prefix, "")
    if endpoint_url:  # an S3-compatible server: path-style REST only, no website endpoint known
        return None, f"{endpoint_url.rstrip('/')}/{bucket}/{folder}{INDEX_DOCUMENT}"
    dash = "-" if region in DASHED_WEBSITE_REGIONS else "."
    website = f"http://{bucket}.s3-website{dash}{region}.amazonaws.com/{folder}"
    if "." in bucket:  # a dotted name breaks the *.s3 wildcard certificate: path-style instead
        return website, f"https://s3.{region}.amazonaws.com/{bucket}/{folder}{INDEX_DOCUMENT}"
    return website, f"https://{bucket}.s3.{region}.amazonaws.com/{folder}{INDEX_DOCUMENT}"


def stale_keys(s3, bucket, prefix, entries):
    """Keys under prefix/ that the new site does not have."""
    folder = object_key(prefix, "")
    wanted = {object_key(prefix, e["path"]) for e in entries}
    return sorted(k for k in existing_etags(s3, bucket, prefix) if k.startswith(folder) and k not in wanted)


def delete_keys(s3, bucket, keys):
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": k} for k in keys[start:start + DELETE_BATCH]]
        errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}).get("Errors")
        if errors:
            raise DeployError(f"could not delete {len(errors)} objects, e.g. {errors[0].get('Key')}: "
                              f"{errors[0].get('Message')}")


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
    """{key: ETag} of the objects under prefix/ (not of `prefix2/…` beside it)."""
    etags = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=object_key(prefix, "")):
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
           prune=None, say=print):
    """Upload the built site, then prune (prune="1") or list (prune="dry") what it no longer has.

    Returns {"uploaded", "unchanged", "bytes_uploaded", "objects", "bytes", "stale", "pruned", "urls"}."""
    if not bucket:
        raise DeployError("no bucket: make deploy BUCKET=name [AWS_ENDPOINT_URL=url] [PREFIX=path] [PRUNE=1|dry]")
    if prune not in (None, "1", "dry"):
        raise DeployError(f"PRUNE={prune}: use PRUNE=1 (delete) or PRUNE=dry (list only)")
    if prune and not prefix.strip("/"):
        raise DeployError("PRUNE needs a PREFIX: at the bucket root every other object in the bucket "
                          "(other prefixes too) would count as unused; nothing was uploaded or deleted")
    out = out or OUT
    entries = load_site(out, file_list)
    s3 = s3_client(endpoint_url, region)
    if ensure_bucket(s3, bucket, region or s3.meta.region_name):
        say(f"deploy: created bucket {bucket}")
    configure_website(s3, bucket, prefix, say)
    etags = existing_etags(s3, bucket, prefix)

    def upload(entry):
        key = object_key(prefix, entry["path"])
        if is_current(s3, bucket, key, entry, etags):
            return None
        body = (out / entry["path"]).read_bytes()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=_base64_md5(entry["md5"]),
                      **wanted_headers(entry))
        return len(body)  # 0 for an empty file, which was still uploaded

    last = [PAGE] if not any(e["path"] == SERVICE_WORKER for e in entries) else [SERVICE_WORKER, PAGE]
    rest = [e for e in entries if e["path"] not in last]
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        sizes = list(pool.map(upload, rest))
    # Last: the new service worker (it downloads the new version, so that must be there), then
    # the page, which appears only once all it needs is there.
    sizes += [upload(next(e for e in entries if e["path"] == path)) for path in last]
    uploaded = [n for n in sizes if n is not None]
    where = f"s3://{bucket}/{object_key(prefix, '')}"
    result = {"objects": len(entries), "bytes": sum(e["bytes"] for e in entries),
              "uploaded": len(uploaded), "bytes_uploaded": sum(uploaded),
              "unchanged": len(entries) - len(uploaded), "stale": [], "pruned": []}
    say(f"deploy: {where} — {result['uploaded']} uploaded "
        f"({result['bytes_uploaded'] / 1e6:.2f} MB), {result['unchanged']} unchanged, "
        f"{result['objects']} objects / {result['bytes'] / 1e6:.2f} MB in all")
    if prune:  # only now: index.html has switched, so no new visit asks for these any more
        result["stale"] = stale_keys(s3, bucket, prefix, entries)
        if prune == "1":
            delete_keys(s3, bucket, result["stale"])
            result["pruned"] = result["stale"]
        verb = "deleted" if prune == "1" else "would delete (PRUNE=dry: nothing deleted)"
        say(f"deploy: prune {verb} {len(result['stale'])} objects under {where} the site no longer has"
            + "".join(f"\n  {key}" for key in result["stale"]))
    endpoint = s3.meta.endpoint_url  # --endpoint-url, AWS_ENDPOINT_URL or AWS's own
    custom = None if urllib.parse.urlsplit(endpoint).hostname.endswith(".amazonaws.com") else endpoint
    website, rest = result["urls"] = site_urls(bucket, prefix, bucket_region(s3, bucket), custom)
    say(f"deploy: website: {website} (plain HTTP: the page works, its service worker cannot run)" if website
        else f"deploy: website: none ({custom} has no S3 website endpoint)")
    say(f"deploy: HTTPS: {rest} (REST endpoint, a secure context: the service worker can run)"
        if rest.startswith("https:") else f"deploy: REST: {rest} (not HTTPS: no service worker)")
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
    parser.add_argument("--prune", choices=["1", "dry"], default=None,
                        help="after the upload, delete (1) or list (dry) objects under the prefix the site no longer has")
    args = parser.parse_args(argv)
    try:
        deploy(args.bucket, prefix=args.prefix, endpoint_url=args.endpoint_url, region=args.region,
               prune=args.prune)
    except DeployError as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # botocore: no credentials, access denied, endpoint down…
        print(f"deploy: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
