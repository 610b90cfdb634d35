"""RDS: fills moto 5.2.5 gaps.

* The Secrets Manager secret made for ManageMasterUserPassword=true holds
  {"username": "admin", "password": "P@55w0rd!"} whatever MasterUsername was; AWS stores
  the instance's master username and a generated password.
* DeleteDBInstance without FinalDBSnapshotIdentifier and without SkipFinalSnapshot
  succeeds; AWS refuses it with InvalidParameterCombination.
"""

import json
import string
from typing import Any

from moto.moto_api._internal import mock_random
from moto.rds.exceptions import InvalidParameterCombination
from moto.rds.models import MasterUserSecret, RDSBackend

_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~"


def _generate_secret_string(self: MasterUserSecret) -> str:
    password = "".join(mock_random.choice(_PASSWORD_ALPHABET) for _ in range(28))
    return json.dumps({"username": self.resource.master_username, "password": password})


def _require_final_snapshot_choice(original: Any) -> Any:
    def delete_db_instance(
        self: RDSBackend,
        db_instance_identifier: str,
        final_db_snapshot_identifier: str | None = None,
        skip_final_snapshot: bool | None = False,
        **kwargs: Any
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
    RDSBackend.delete_db_instance = _require_final_snapshot_choice(RDSBackend.delete_db_instance)
