"""ECR: an image pushed to the registry the tests run is an image of its ECR repository.

stackc pushes with the container CLI to the registry that ``STACKC_ECR_REGISTRY`` names (the
CNCF distribution registry on loopback) in place of the account's ECR endpoint, which moto
does not serve. On AWS, a push to a repository is what makes an image appear in
DescribeImages, with the digest of its manifest as ``imageDigest`` ("Pushing a Docker image",
Amazon ECR User Guide; DescribeImages, Amazon ECR API Reference). So, when moto is started
with that variable, DescribeImages first registers in moto the repository's tags that the
registry holds, each with the manifest and the digest the registry computed
(``Docker-Content-Digest``). A tag the registry does not hold stays unknown:
``ImageNotFoundException``, as ECR answers.
"""

import json
import os
import urllib.error
import urllib.request

from moto.ecr.models import ECRBackend

# The manifest types a push of docker or podman makes.
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def _get(url: str, accept: str | None = None) -> tuple[bytes, dict[str, str]] | None:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.read(), {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError:
        return None


def _sync(backend: ECRBackend, repository_name: str) -> None:
    registry = os.environ.get("STACKC_ECR_REGISTRY")
    if not registry or repository_name not in backend.repositories:
        return
    listed = _get(f"http://{registry}/v2/{repository_name}/tags/list")
    if listed is None:
        return
    repository = backend.repositories[repository_name]
    known = {tag for image in repository.images for tag in image.image_tags}
    for tag in json.loads(listed[0]).get("tags") or []:
        if tag in known:
            continue
        manifest = _get(f"http://{registry}/v2/{repository_name}/manifests/{tag}", ACCEPT)
        if manifest is None:
            continue
        body, headers = manifest
        backend.put_image(
            repository_name,
            body.decode(),
            tag,
            headers.get("content-type"),
            headers.get("docker-content-digest"),
        )


def apply() -> None:
    original = ECRBackend.describe_images

    def describe_images(self, repository_name, registry_id=None, image_ids=None):  # type: ignore[no-untyped-def]
        _sync(self, repository_name)
        return original(self, repository_name, registry_id, image_ids)

    ECRBackend.describe_images = describe_images  # type: ignore[method-assign]
