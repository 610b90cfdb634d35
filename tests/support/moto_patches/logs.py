"""CloudWatch Logs: fills a moto 5.2.5 gap.

FilterLogEvents ignores ``logStreamNamePrefix``. AWS (FilterLogEvents, CloudWatch Logs API
Reference): "logStreamNamePrefix: Filters the results to include only events from log
streams that have names starting with this prefix. If you specify a value for both
logStreamNamePrefix and logStreamNames, the action returns an InvalidParameterException
error." stackc reads one service's lines with it (ECS names an ``awslogs`` stream
``<prefix>/<container>/<task id>``).
"""

import json
from typing import Any

from moto.logs.exceptions import InvalidParameterException
from moto.logs.responses import LogsResponse


def _with_stream_prefix(original: Any) -> Any:
    def filter_log_events(self: LogsResponse) -> str:
        prefix = self._get_param("logStreamNamePrefix")
        if not prefix:
            return original(self)
        if self._get_param("logStreamNames"):
            raise InvalidParameterException(
                "Cannot specify both logStreamNamePrefix and logStreamNames"  # the emulator's wording
            )
        group_name = self._get_param("logGroupName")
        group = self.logs_backend.groups.get(group_name)
        names = [name for name in (group.streams if group else {}) if name.startswith(prefix)]
        if not names:
            return json.dumps({"events": [], "searchedLogStreams": []})
        # The rest as moto's own FilterLogEvents, over the streams with the prefix.
        events, next_token, searched = self.logs_backend.filter_log_events(
            group_name,
            names,
            self._get_param("startTime"),
            self._get_param("endTime"),
            self._get_param("limit"),
            self._get_param("nextToken"),
            self._get_param("filterPattern"),
            self._get_param("interleaved", False),
        )
        return json.dumps({"events": events, "nextToken": next_token, "searchedLogStreams": searched})

    return filter_log_events


def apply() -> None:
    LogsResponse.filter_log_events = _with_stream_prefix(LogsResponse.filter_log_events)
