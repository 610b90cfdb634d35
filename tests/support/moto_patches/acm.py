"""AWS Certificate Manager: DNS validation as AWS does it, on top of moto 5.2.5.

moto issues a requested certificate 60 seconds after the request whatever DNS holds, gives
every certificate of every account the same validation record, fills it in at once, never
clears ``InUseBy`` and deletes a certificate a load balancer still uses. Here, following
"DNS validation" (docs.aws.amazon.com/acm/latest/userguide/dns-validation.html) and
"Troubleshoot DNS validation problems" (troubleshooting-DNS-validation.html):

* The validation record is a CNAME "unique to your domain and your AWS account" (ACM "uses
  the same CNAME record for a domain" in an account): here ``_<32 hex>.<domain>.`` with a
  value ``_<32 hex>.<10 letters>.acm-validations.aws.``, both derived from the account and
  the domain.
* RequestCertificate returns before ACM has made the record: "it can take a few seconds"
  for ``ResourceRecord`` to appear in DescribeCertificate. It is left out of the first
  ``STACKC_MOTO_ACM_RECORD_CALLS`` (default 1) DescribeCertificate calls of a certificate
  (a count, like ``ec2``'s eventual consistency, so a client meets it every time).
* "ACM automatically validates ... as long as the CNAME record ... remains in place":
  a certificate stays ``PENDING_VALIDATION`` until public DNS holds the record (its name and
  value), and is ``ISSUED`` from the next look at it on. The emulator's public DNS is the
  public hosted zones of every account of its Route 53 (a zone counts for the names under
  it; its delegation is assumed): a test stands for "a DNS provider outside this account"
  with a zone of another account.
* "If ACM is not able to validate the domain name within 72 hours from the time it
  generates a CNAME value for you, ACM changes the certificate status to
  VALIDATION_TIMED_OUT": after ``STACKC_MOTO_ACM_VALIDATION_TIMEOUT_SECONDS`` (default
  259200, 72 hours) a pending certificate is ``VALIDATION_TIMED_OUT``, for good.
* ``InUseBy`` lists the load balancers whose listeners use the certificate now (moto
  appended to it and never removed), and DeleteCertificate of a certificate in use answers
  ``ResourceInUseException`` ("Certificate ... is in use", DeleteCertificate's documented
  error: "The certificate is in use by another AWS service in the account").
"""

import hashlib
import os
from datetime import timedelta
from typing import Any

from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow
from moto.elbv2.models import elbv2_backends
from moto.route53.models import route53_backends
from moto.utilities.utils import get_partition

RECORD_CALLS_ENV_VAR = "STACKC_MOTO_ACM_RECORD_CALLS"
TIMEOUT_ENV_VAR = "STACKC_MOTO_ACM_VALIDATION_TIMEOUT_SECONDS"


class ResourceInUseException(JsonRESTError):
    def __init__(self, arn: str):
        super().__init__("ResourceInUseException", f"Certificate {arn} is in use.")


def _record_calls() -> int:
    return int(os.environ.get(RECORD_CALLS_ENV_VAR, "1") or 0)


def _timeout() -> timedelta:
    return timedelta(seconds=float(os.environ.get(TIMEOUT_ENV_VAR, "259200") or 259200))


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def validation_record(account_id: str, domain: str) -> tuple[str, str]:
    """The CNAME (name, value) that validates `domain` in `account_id`."""
    base = domain[2:] if domain.startswith("*.") else domain
    name = f"_{_digest('name', account_id, base)[:32]}.{base}."
    token = _digest("value", account_id, base)
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in token[32:42])
    return name, f"_{token[:32]}.{letters}.acm-validations.aws."


def _plain(name: str) -> str:
    return name.rstrip(".").lower()


def _published(region: str, name: str, value: str) -> bool:
    """Whether a public hosted zone holding `name`, in any account (public DNS is everyone's),
    has the CNAME `name` → `value`."""
    partition = get_partition(region)
    zones = [z for _, backends in list(route53_backends.items()) for z in backends[partition].zones.values()]
    for zone in zones:
        zone_name = _plain(zone.name)
        if zone.private_zone or not (_plain(name) == zone_name or _plain(name).endswith("." + zone_name)):
            continue
        for rrset in zone.rrsets:
            if _plain(rrset.name) == _plain(name) and rrset.type == "CNAME":
                if any(_plain(r) == _plain(value) for r in rrset.records):
                    return True
    return False


def _users(cert: CertBundle) -> list[str]:
    """The load balancers whose listeners use the certificate now."""
    region = cert.arn.split(":")[3]
    users = []
    for lb in elbv2_backends[cert._stackc_account][region].load_balancers.values():
        if any(cert.arn in (listener.certificates or []) for listener in lb.listeners.values()):
            users.append(lb.arn)
    return users


def _domains(cert: CertBundle) -> list[str]:
    return sorted(set(cert.sans + ([cert.common_name] if cert.common_name else [])))


def apply() -> None:
    original_generate = CertBundle.generate_cert.__func__  # type: ignore[attr-defined]

    def generate_cert(cls: type, domain_name: str, account_id: str, region: str, *args: Any, **kwargs: Any) -> Any:
        cert = original_generate(cls, domain_name, account_id, region, *args, **kwargs)
        cert._stackc_account = account_id
        cert._stackc_describes = 0
        return cert

    CertBundle.generate_cert = classmethod(generate_cert)  # type: ignore[method-assign, assignment]

    def check(self: CertBundle) -> None:
        if self._not_valid_after(self._cert) <= utcnow():
            self.status = "EXPIRED"
            return
        if self.type != "AMAZON_ISSUED" or self.status != "PENDING_VALIDATION":
            return
        account, region = self._stackc_account, self.arn.split(":")[3]
        records = [validation_record(account, d) for d in _domains(self)]
        if records and all(_published(region, n, v) for n, v in records):
            self.status = "ISSUED"
            self._stackc_issued = utcnow()
        elif utcnow() - self.created_at > _timeout():
            self.status = "VALIDATION_TIMED_OUT"

    CertBundle.check = check  # type: ignore[method-assign]

    original_describe = CertBundle.describe

    def describe(self: CertBundle) -> dict[str, Any]:
        result = original_describe(self)
        detail = result["Certificate"]
        if not hasattr(self, "_stackc_account"):
            return result  # an imported certificate
        detail["InUseBy"] = _users(self)
        issued = getattr(self, "_stackc_issued", None)
        if issued is None:
            detail.pop("IssuedAt", None)
        options = detail.get("DomainValidationOptions", [])
        with_record = self._stackc_describes > _record_calls()
        for option in options:
            name, value = validation_record(self._stackc_account, option["DomainName"])
            if with_record:
                option["ResourceRecord"] = {"Name": name, "Type": "CNAME", "Value": value}
            else:
                option.pop("ResourceRecord", None)
        return result

    CertBundle.describe = describe  # type: ignore[method-assign]

    original_describe_certificate = AWSCertificateManagerBackend.describe_certificate

    def describe_certificate(self: AWSCertificateManagerBackend, arn: str) -> CertBundle:
        cert = original_describe_certificate(self, arn)
        if hasattr(cert, "_stackc_describes"):
            cert._stackc_describes += 1
        return cert

    AWSCertificateManagerBackend.describe_certificate = describe_certificate  # type: ignore[method-assign]

    original_delete = AWSCertificateManagerBackend.delete_certificate

    def delete_certificate(self: AWSCertificateManagerBackend, arn: str) -> None:
        cert = self._certificates.get(arn)
        if cert is not None and hasattr(cert, "_stackc_account") and _users(cert):
            raise ResourceInUseException(arn)
        original_delete(self, arn)

    AWSCertificateManagerBackend.delete_certificate = delete_certificate  # type: ignore[method-assign]
