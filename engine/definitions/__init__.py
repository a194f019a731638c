"""Campaign documents: the JSON Schema and the checks beyond it (``schema``,
``checks``), drafts and publishing (``campaigns``), the compiled view an event
is evaluated against (``compiled``), calendar periods and branding.

The validation functions are offered here directly."""
from engine.definitions.checks import (ACTION_DEFAULTS, MAX_DEPTH, action_reward, load_schema, normalize,
                                       validate_definition)
from engine.definitions.schema import (ROOT, Issue, format_path, make_validator, parse_datetime,
                                       schema_issues)

__all__ = ["ACTION_DEFAULTS", "MAX_DEPTH", "ROOT", "Issue", "action_reward", "format_path", "load_schema",
           "make_validator", "normalize", "parse_datetime", "schema_issues", "validate_definition"]
