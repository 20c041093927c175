"""`make deploy` against a real S3 API server on 127.0.0.1 (moto server mode)."""
import gzip
import hashlib
import json
import logging
import re
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import new_page
from tests.support.proxy import ALIASES
from tests.support.s3_server import S3Server
from tools import deploy, site
from tools.site import ROOT
from tools.mime import IMMUTABLE, REVALIDATE, content_hash

pytestmark = pytest.mark.timeout(300)
BUCKET = "falken-test"
PUBLIC_POLICY_ONLY = {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                      "BlockPublicPolicy": False, "RestrictPublicBuckets": False}


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="module")
def built_site(site_dir):
    """The real site, built into a temporary folder (build/site is left to `make site`)."""
    return site.build(ROOT, site_dir / "site", site_dir / "site-files.json")


def run_deploy(s3, site_dir, bucket=BUCKET, **options):
    options.setdefault("say", lambda *_: None)
    options.setdefault("endpoint_url", s3.url)
    return deploy.deploy(bucket, out=site_dir / "site", file_list=site_dir / "site-files.json", **options)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """The S3 server, with throwaway credentials in the environment (the standard chain)."""
    patch = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(home / "config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")}.items():
        patch.setenv(name, value)
    patch.delenv("AWS_ENDPOINT_URL", raising=False)
    with S3Server() as server:
        server.home = home
        # moto reads a dotted Host as a virtual-hosted bucket (falken-s3.test -> bucket "falken-s3");
        # the browser test opens the site path-style under that alias, as an S3-compatible endpoint.
        patch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", f"http://{S3_ALIAS}:{server.port}")
        yield server
    patch.undo()


@pytest.fixture(scope="module")
def deployed(built_site, s3, site_dir):
    first = run_deploy(s3, site_dir)
    second = run_deploy(s3, site_dir)
    return first, second


def client(s3):
    return deploy.s3_client(s3.url)


def test_every_object_carries_the_right_headers(built_site, s3, deployed):
    first, _ = deployed
    assert first["uploaded"] == first["objects"] == built_site["count"]
    objects = client(s3).list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in objects) == sorted(f["path"] for f in built_site["files"])
    for entry in built_site["files"]:
        head = client(s3).head_object(Bucket=BUCKET, Key=entry["path"])
        assert head["ContentType"] == entry["content_type"], entry["path"]
        assert head.get("ContentEncoding") == entry["content_encoding"], entry["path"]
        assert head["ContentLength"] == entry["bytes"]
        path = entry["path"]  # immutable only under its own hash (tests/test_site_build.py)
        immutable = bool(content_hash(path)) and entry["raw_sha256"].startswith(content_hash(path))
        assert head["CacheControl"] == (IMMUTABLE if immutable else REVALIDATE), path


def test_the_headers_are_the_ones_the_page_needs(built_site):
    by_path = {f["path"]: f for f in built_site["files"]}
    wasm = by_path["static/vendor/pyodide/pyodide.asm.wasm"]
    assert wasm["content_type"] == "application/wasm" and wasm["content_encoding"] == "gzip"
    assert by_path["static/vendor/pyodide/pyodide.mjs"]["content_type"].startswith("text/javascript")
    assert by_path["index.html"]["cache_control"] == REVALIDATE
    assert by_path["static/data/mnist/manifest.json"]["cache_control"] == REVALIDATE
    block = next(f for f in built_site["files"] if f["path"].endswith(".npz") and "train-" in f["path"])
    assert block["content_encoding"] == "gzip" and block["cache_control"] == IMMUTABLE
    deflated = by_path["static/vendor/wheels/pyodide_http-0.2.2-py3-none-any.whl"]
    assert deflated["content_encoding"] is None  # already deflated: gzip would not pay
    for path, stored in by_path.items():         # only there when `make setup` found the wheel
        if path.startswith("static/vendor/pyodide/numpy-"):
            assert stored["content_encoding"] == "gzip"  # trimmed and stored: gzip works across members


def test_a_second_deploy_uploads_nothing(deployed):
    first, second = deployed
    assert second["uploaded"] == 0 and second["bytes_uploaded"] == 0
    assert second["unchanged"] == first["objects"]


def test_a_changed_header_or_file_is_uploaded_again(built_site, s3, site_dir, deployed):
    key = "static/css/falken.css"
    client(s3).copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": key},
                           MetadataDirective="REPLACE", ContentType="binary/octet-stream")
    result = run_deploy(s3, site_dir)
    assert result["uploaded"] == 1
    assert client(s3).head_object(Bucket=BUCKET, Key=key)["ContentType"].startswith("text/css")


def test_index_html_is_uploaded_last(built_site, s3, site_dir, monkeypatch):
    order = []
    real = deploy.s3_client

    def recording_client(*args, **kwargs):
        s3_api = real(*args, **kwargs)
        s3_api.meta.events.register("before-call.s3.PutObject",
                                    lambda params, **_: order.append(params["url_path"]))
        return s3_api
    monkeypatch.setattr(deploy, "s3_client", recording_client)
    run_deploy(s3, site_dir, "falken-order", prefix="v1")
    assert len(order) == built_site["count"] and order[-1].endswith("/v1/index.html")
    run_deploy(s3, site_dir, "falken-order", prefix="v2")  # a second prefix keeps the first public
    resources = {st["Resource"] for st in json.loads(
        client(s3).get_bucket_policy(Bucket="falken-order")["Policy"])["Statement"]}
    assert resources == {"arn:aws:s3:::falken-order/v1/*", "arn:aws:s3:::falken-order/v2/*"}


def test_public_read_policy_website_and_anonymous_get(s3, deployed):
    api = client(s3)
    policy = json.loads(api.get_bucket_policy(Bucket=BUCKET)["Policy"])
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Allow" and statement["Principal"] == "*"
    assert statement["Action"] == "s3:GetObject" and statement["Resource"] == f"arn:aws:s3:::{BUCKET}/*"
    assert api.get_bucket_website(Bucket=BUCKET)["IndexDocument"] == {"Suffix": "index.html"}
    assert len(policy["Statement"]) == 1  # redeploys replace their statement, not add one
    # a plain unsigned GET, as a browser does, on the path-style URL
    with urllib.request.urlopen(f"{s3.url}/{BUCKET}/index.html") as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert b"<html" in gzip.decompress(response.read())


def test_block_public_access_stays_on_for_acls_and_the_output_says_what_changed(s3, site_dir, deployed):
    """AWS creates buckets with all four settings on; a deploy relaxes only the two that a
    public-read policy needs (it used to delete the whole block)."""
    api = client(s3)
    assert api.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"] == PUBLIC_POLICY_ONLY
    api.create_bucket(Bucket="falken-bpa")
    api.put_public_access_block(Bucket="falken-bpa", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    said = []
    run_deploy(s3, site_dir, "falken-bpa", prefix="v1", say=said.append)
    assert api.get_public_access_block(Bucket="falken-bpa")["PublicAccessBlockConfiguration"] == PUBLIC_POLICY_ONLY
    assert ("deploy: Block Public Access on falken-bpa: BlockPublicAcls and IgnorePublicAcls on, BlockPublicPolicy "
            "and RestrictPublicBuckets off (the public-read policy needs them off); changed: BlockPublicPolicy off, "
            "RestrictPublicBuckets off") in said
    said.clear()
    run_deploy(s3, site_dir, "falken-bpa", prefix="v1", say=said.append)
    assert any(line.startswith("deploy: Block Public Access") and line.endswith("; unchanged") for line in said)


def all_keys(s3, bucket):
    pages = client(s3).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}


def test_prune_lists_then_deletes_only_what_the_site_no_longer_has_under_its_prefix_after_the_page(
        built_site, s3, site_dir, monkeypatch):
    bucket, api = "falken-prune", client(s3)
    run_deploy(s3, site_dir, bucket, prefix="v1")
    run_deploy(s3, site_dir, bucket, prefix="v2")
    stale = ["v1/old/page.js", "v1/static/data/mnist/train-999-0123abcd.npz"]
    beside = ["notes.txt", "v1-notes/a.txt", "v10/index.html"]  # outside v1/ though they start with "v1"
    for key in stale + beside:
        api.put_object(Bucket=bucket, Key=key, Body=b"kept elsewhere")
    older_page = {"Bucket": bucket, "Key": "v1/index.html", "Body": b"<html>the previous page</html>"}

    api.put_object(**older_page)
    before = set(all_keys(s3, bucket))
    said = []
    dry = run_deploy(s3, site_dir, bucket, prefix="v1", prune="dry", say=said.append)
    assert set(all_keys(s3, bucket)) == before and dry["stale"] == stale and dry["pruned"] == []
    report = next(line for line in said if line.startswith("deploy: prune"))
    assert report.splitlines() == [f"deploy: prune would delete (PRUNE=dry: nothing deleted) 2 objects under "
                                   f"s3://{bucket}/v1/ the site no longer has", *(f"  {key}" for key in stale)]

    api.put_object(**older_page)  # so that this deploy switches index.html again
    calls, real = [], deploy.s3_client

    def recording_client(*args, **kwargs):
        s3_api = real(*args, **kwargs)
        s3_api.meta.events.register("before-call.s3.PutObject",
                                    lambda params, **_: calls.append(("put", params["url_path"])))
        s3_api.meta.events.register("before-call.s3.DeleteObjects",
                                    lambda params, **_: calls.append(("delete", params["url_path"])))
        return s3_api
    monkeypatch.setattr(deploy, "s3_client", recording_client)
    pruned = run_deploy(s3, site_dir, bucket, prefix="v1", prune="1")
    assert pruned["pruned"] == stale and set(all_keys(s3, bucket)) == before - set(stale)
    kinds = [kind for kind, _ in calls]
    page_put = next(i for i, (kind, path) in enumerate(calls) if kind == "put" and path.endswith("/v1/index.html"))
    assert kinds.count("delete") == 1 and page_put == len(calls) - 2 and kinds[-1] == "delete"  # page, then prune
    v2 = {k for k in all_keys(s3, bucket) if k.startswith("v2/")}
    assert v2 == {f"v2/{f['path']}" for f in built_site["files"]}
    assert set(beside) <= set(all_keys(s3, bucket))
    again = run_deploy(s3, site_dir, bucket, prefix="v1", prune="1")
    assert again["pruned"] == [] and again["uploaded"] == 0


def test_prune_at_the_bucket_root_or_with_a_wrong_mode_is_refused_before_anything_is_done(s3, site_dir):
    with pytest.raises(deploy.DeployError, match="PRUNE needs a PREFIX"):
        run_deploy(s3, site_dir, "falken-root-prune", prune="1")
    with pytest.raises(deploy.DeployError, match="PRUNE=yes: use PRUNE=1"):
        run_deploy(s3, site_dir, "falken-root-prune", prefix="v1", prune="yes")
    assert "falken-root-prune" not in {b["Name"] for b in client(s3).list_buckets()["Buckets"]}


def test_both_urls_are_printed_and_the_rest_one_serves_the_page(s3, site_dir, deployed):
    said = []
    run_deploy(s3, site_dir, say=said.append)
    rest = f"{s3.url}/{BUCKET}/index.html"
    assert said[-2:] == [f"deploy: website: none ({s3.url} has no S3 website endpoint)",
                         f"deploy: REST: {rest} (not HTTPS: no service worker)"]
    with urllib.request.urlopen(rest) as response:
        assert b"<html" in gzip.decompress(response.read())


def test_on_aws_both_the_website_and_the_https_url_are_printed(s3, built_site, site_dir):
    """The same deploy against AWS itself, as moto's in-process mock stands for it (in a
    subprocess: the mock would reset the server's buckets that the other tests use)."""
    script = ("import sys, moto; from pathlib import Path; from tools import deploy\n"
              "with moto.mock_aws():\n"
              "    deploy.deploy('falken-aws', prefix='v1', region='us-east-1', out=Path(sys.argv[1]) / 'site',\n"
              "                  file_list=Path(sys.argv[1]) / 'site-files.json')\n")
    run = subprocess.run([sys.executable, "-c", script, str(site_dir)], cwd=ROOT, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-2:] == [
        "deploy: website: http://falken-aws.s3-website-us-east-1.amazonaws.com/v1/ "
        "(plain HTTP: the page works, its service worker cannot run)",
        "deploy: HTTPS: https://falken-aws.s3.us-east-1.amazonaws.com/v1/index.html "
        "(REST endpoint, a secure context: the service worker can run)"]
    assert deploy.site_urls("falken", "", "eu-central-1")[0] == "http://falken.s3-website.eu-central-1.amazonaws.com/"
    assert deploy.site_urls("my.site", "v1", "eu-west-1") == (  # dotted: path-style for a valid certificate
        "http://my.site.s3-website-eu-west-1.amazonaws.com/v1/", "https://s3.eu-west-1.amazonaws.com/my.site/v1/index.html")


def test_deployed_blocks_match_the_manifest(built_site, s3, deployed):
    with urllib.request.urlopen(f"{s3.url}/{BUCKET}/static/data/mnist/manifest.json") as response:
        manifest = json.loads(gzip.decompress(response.read()))
    entry = manifest["blocks"][0]
    with urllib.request.urlopen(f"{s3.url}/{BUCKET}/static/data/mnist/{entry['file']}") as response:
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert hashlib.sha256(gzip.decompress(response.read())).hexdigest() == entry["sha256"]


def test_credentials_are_never_written(s3, site_dir, deployed):
    assert not (s3.home / "config").exists() and not (s3.home / "credentials").exists()
    for path in site_dir.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert b"AWS_SECRET" not in path.read_bytes()


def test_deploy_without_a_bucket_or_site_says_what_to_do(monkeypatch, tmp_path):
    assert deploy.main(["--bucket", ""]) == 1
    monkeypatch.setattr(deploy, "FILE_LIST", tmp_path / "nothing.json")
    with pytest.raises(deploy.DeployError, match="make site"):
        deploy.load_site()


S3_ALIAS = sorted(ALIASES)[0]
BLOCK_GET = re.compile(rf'"GET /{BUCKET}/static/data/mnist/(train-\d+-[0-9a-f]{{8}}\.npz) HTTP')


@pytest.mark.browser
@pytest.mark.needs_numpy
def test_the_deployed_site_boots_from_s3_without_a_secure_context_and_every_view_works(
        browser, s3, deployed, caplog):
    """S3 website endpoints serve plain HTTP under a real host name: no secure context (no
    service worker, no crypto.randomUUID, no SharedArrayBuffer). The page is opened the same way:
    through a name that is not localhost, mapped to 127.0.0.1 (tests.support.proxy.ALIASES)."""
    caplog.set_level(logging.INFO, logger="werkzeug")  # moto's request log: what S3 served
    page = new_page(browser, f"http://{S3_ALIAS}:{s3.port}/{BUCKET}/")
    assert (ROOT / "knowledge" / "digits.npz").exists(), \
        "knowledge/digits.npz (shipped digits model) is missing: the Digits view cannot start"
    page.open("index.html")  # waits for body[data-ready="true"]
    assert page.js("return [isSecureContext, location.hostname]") == [False, S3_ALIAS]
    page.click("#cell-4")
    assert page.js("return [...document.querySelectorAll('.cell')].filter(c => c.textContent).length") == 2
    page.click("#nav-digits")
    page.wait_for("!document.getElementById('train-start').disabled", what="the trainer")
    page.draw("#grid", [[(14, 4), (14.5, 14), (14, 24)]])
    page.wait_for("document.getElementById('prediction').dataset.digit === '1'", what="a prediction")
    page.click("#train-start")
    page.wait_for("+document.getElementById('train-status').dataset.iteration >= 20", what="20 steps")
    page.click("#train-pause")
    status = page.js("return {...document.getElementById('train-status').dataset}")
    served = {m.group(1) for r in caplog.records if (m := BLOCK_GET.search(r.getMessage()))}
    manifest = json.loads((ROOT / "static/data/mnist/manifest.json").read_text())
    train_files = {b["file"] for b in manifest["blocks"] if b["split"] == "train"}
    assert served and served <= train_files, served  # the worker fetched blocks from S3
    assert int(status["cacheBlocks"]) > 0, status
    page.click("#nav-text")
    page.wait_for("document.getElementById('text-output').textContent.length > 50", what="written text")
    assert page.errors_text() == ""
    assert not page.foreign_requests()
    unexpected = page.unexpected_console_errors()
    assert not unexpected, unexpected
