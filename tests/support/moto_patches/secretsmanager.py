"""Secrets Manager: fills a moto 5.2.5 gap.

RotateSecret on a secret that another service manages (RDS's ManageMasterUserPassword
secret) leaves moto's new AWSCURRENT version without a value, so GetSecretValue fails
afterwards, and leaves LastChangedDate as it was. AWS ("Managed rotation for AWS Secrets
Manager secrets", https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_managed.html):
"With managed rotation, you don't use an AWS Lambda function to update the secret and the
credentials in the database"; the owning service writes the new credentials as a new
version. DescribeSecret then shows LastRotatedDate ("The last date and time that Secrets
Manager rotated the secret") and LastChangedDate ("The last date and time that this secret
was modified in any way") at the rotation, and the previous version keeps the AWSPREVIOUS
label. Here the rotation completes within the RotateSecret call (AWS: "typically completes
within one minute"); times carry sub-second precision, as AWS's do, so a client can order a
rotation against an event of the same second.
"""

import time
from typing import Any

from moto.moto_api._internal import mock_random
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

from . import rds

DAY = 86400


def _rotate_managed(secret: FakeSecret, token: str | None) -> None:
    now = time.time()
    version_id = token or str(mock_random.uuid4())
    new_version = {
        "createdate": int(now),
        "version_id": version_id,
        "version_stages": ["AWSCURRENT"],
        "secret_string": rds.rotated_secret_string(secret.secret_string or "{}"),
    }
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.reset_default_version(new_version, version_id)
    secret.secret_string = new_version["secret_string"]
    secret.last_rotation_date = now  # type: ignore[assignment]
    secret.last_changed_date = now  # type: ignore[assignment]
    if secret.auto_rotate_after_days:
        secret.next_rotation_date = int(now) + secret.auto_rotate_after_days * DAY


def _managed_rotation(original: Any) -> Any:
    def rotate_secret(
        self: SecretsManagerBackend, secret_id: str, client_request_token: str | None = None, **kwargs: Any
    ) -> str:
        secret = self.secrets[secret_id] if self._is_valid_identifier(secret_id) else None
        if isinstance(secret, FakeSecret) and secret.owning_service == "rds" and not kwargs.get("rotation_lambda_arn"):
            if kwargs.get("rotation_rules"):
                secret.auto_rotate_after_days = kwargs["rotation_rules"].get("AutomaticallyAfterDays", 0)
            _rotate_managed(secret, client_request_token)
            return secret.to_short_dict()
        return original(self, secret_id, client_request_token, **kwargs)

    return rotate_secret


def apply() -> None:
    SecretsManagerBackend.rotate_secret = _managed_rotation(SecretsManagerBackend.rotate_secret)
