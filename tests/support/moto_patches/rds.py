"""RDS: fills moto 5.2.5 gaps.

* The Secrets Manager secret made for ManageMasterUserPassword=true holds
  {"username": "admin", "password": "P@55w0rd!"} whatever MasterUsername was; AWS stores
  the instance's master username and a generated password.
* That secret has no rotation configured. AWS ("Password management with Amazon RDS and
  AWS Secrets Manager", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html):
  "RDS manages the settings for the secret and rotates the secret every seven days by
  default", so DescribeSecret shows RotationEnabled, RotationRules.AutomaticallyAfterDays 7
  and a NextRotationDate. (The rotation itself is ``secretsmanager.py``'s.)
* DeleteDBInstance without FinalDBSnapshotIdentifier and without SkipFinalSnapshot
  succeeds; AWS refuses it with InvalidParameterCombination.
"""

import json
import string
import time
from typing import Any

from moto.moto_api._internal import mock_random
from moto.rds.exceptions import InvalidParameterCombination
from moto.rds.models import MasterUserSecret, RDSBackend
from moto.secretsmanager.models import FakeSecret

_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~"
ROTATION_DAYS = 7


def _password() -> str:
    return "".join(mock_random.choice(_PASSWORD_ALPHABET) for _ in range(28))


def rotated_secret_string(current: str) -> str:
    """The secret after RDS rotates it: the same username, a new password."""
    try:
        username = json.loads(current).get("username")
    except (ValueError, AttributeError):
        username = None
    return json.dumps({"username": username, "password": _password()})


def _generate_secret_string(self: MasterUserSecret) -> str:
    return json.dumps({"username": self.resource.master_username, "password": _password()})


def _with_default_rotation(original: Any) -> Any:
    def _create_secret(self: MasterUserSecret, kms_key_id: str | None) -> FakeSecret:
        secret = original(self, kms_key_id)
        secret.rotation_requested = secret.rotation_enabled = True
        secret.auto_rotate_after_days = ROTATION_DAYS
        secret.next_rotation_date = int(time.time()) + ROTATION_DAYS * 86400
        return secret

    return _create_secret


def _require_final_snapshot_choice(original: Any) -> Any:
    def delete_db_instance(
        self: RDSBackend,
        db_instance_identifier: str,
        final_db_snapshot_identifier: str | None = None,
        skip_final_snapshot: bool | None = False,
        **kwargs: Any,
    ) -> Any:
        database = self.databases.get(db_instance_identifier)
        if (
            database is not None
            and not database.deletion_protection
            and not database.is_replica
            and not final_db_snapshot_identifier
            and not skip_final_snapshot
        ):
            raise InvalidParameterCombination(
                "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified."
            )
        return original(self, db_instance_identifier, final_db_snapshot_identifier, skip_final_snapshot, **kwargs)

    return delete_db_instance


def apply() -> None:
    MasterUserSecret._generate_secret_string = _generate_secret_string
    MasterUserSecret._create_secret = _with_default_rotation(MasterUserSecret._create_secret)
    RDSBackend.delete_db_instance = _require_final_snapshot_choice(RDSBackend.delete_db_instance)
