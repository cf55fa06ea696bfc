"""What PostgreSQL (15) offers, for SQLAlchemy's compliance suite.

SuiteRequirements closes every optional feature; a test for a closed one is skipped.
Here each feature PostgreSQL has is opened, so its tests run against ferropg.
Features left closed are ones PostgreSQL lacks (FETCH ... PERCENT, NVARCHAR, virtual
generated columns before 18) or that need server set-up the throwaway cluster does
not have (two-phase commit needs max_prepared_transactions > 0), and behaviours of
other databases (MySQL indexes every foreign key; Oracle reflects DESC index columns
as expressions; PostgreSQL's materialized views have no primary key).
"""

from sqlalchemy.testing import exclusions
from sqlalchemy.testing.requirements import SuiteRequirements

_OPEN = [
    "create_table_as",
    "create_temp_table_as",
    "table_ddl_if_exists",
    "index_ddl_if_exists",
    "uuid_data_type",
    "non_updating_cascade",
    "deferrable_fks",
    "boolean_col_expressions",
    "nullsordering",
    "intersect",
    "except_",
    "window_functions",
    "window_range",
    "window_range_numeric",
    "window_range_non_numeric",
    "ctes",
    "views",
    "cross_schema_fk_reflection",
    "reflects_pk_names",
    "temp_table_comment_reflection",
    "comment_reflection",
    "constraint_comment_reflection",
    "schema_create_delete",
    "foreign_key_constraint_option_reflection_ondelete",
    "fk_constraint_option_reflection_ondelete_restrict",
    "fk_constraint_option_reflection_ondelete_noaction",
    "foreign_key_constraint_option_reflection_onupdate",
    "fk_constraint_option_reflection_onupdate_restrict",
    "temp_table_names",
    "has_temp_table",
    "temporary_views",
    "create_or_replace_view",
    "index_reflects_included_columns",
    "indexes_check_column_order",
    "indexes_with_expressions",
    "reflect_indexes_with_expressions",
    "inline_check_constraint_reflection",
    "check_constraint_reflection",
    "autocommit",
    "array_type",
    "json_type",
    "precision_numerics_enotation_small",
    "server_defaults",
    "infinity_floats",
    "float_or_double_precision_behaves_generically",
    "savepoints",
    "update_from",
    "delete_from",
    "mod_operator_as_percent_sign",
    "computed_columns",
    "computed_columns_stored",
    "computed_columns_reflect_persisted",
    "supports_distinct_on",
    "identity_columns",
    "regexp_match",
    "regexp_replace",
    "fetch_first",
    "fetch_ties",
    "fetch_no_order_by",
    "materialized_views",
    "reflect_table_options",
    "supports_bitwise_or",
    "supports_bitwise_and",
    "supports_bitwise_not",
    "supports_bitwise_xor",
    "supports_bitwise_shift",
    "ctes_with_update_delete",
    "ctes_on_dml",
    "independent_connections",
    "independent_readonly_connections",
    "schemas",
    "implicit_default_schema",
    "sequences",
    "get_isolation_levels",
    "ctes_with_values",
    "datetime_timezone",
    "time_timezone",
    "datetime_implicit_bound",
    "datetime_interval",
    "date_implicit_bound",
    "time_implicit_bound",
    "floats_to_four_decimals",
    "fetch_offset_with_options",
    "fetch_expression",
    "has_table_reflect_ignore_case",
    "reflect_tables_no_columns",
    "json_index_supplementary_unicode_element",
    "legacy_unconditional_json_extract",
    "binary_literals",
    "binary_comparisons",
    "insert_executemany_returning",
    "insert_returning",
    "update_returning",
    "delete_returning",
    "unique_constraints_reflect_as_index",
    "ctes_on_dml",
    "duplicate_key_raises_integrity_error",
    "isolation_level",
    "emulated_lastrowid_even_with_sequences",
    "cast_precision_numerics_many_significant_digits",
    "nested_aggregates",
    "recursive_fk_cascade",
    "unicode_ddl",
    "symbol_names_w_double_quote",
    "arraysize",
    "fk_constraint_option_reflection_ondelete_noaction",
    "reflect_indexes_with_ascdesc",
    "index_ddl_if_exists",
    "table_value_constructor",
    "tuple_in",
    "tuple_in_w_empty",
    "precision_generic_float_type",
    "unbounded_varchar",
    "empty_strings_varchar",
    "empty_strings_text",
    "expressions_against_unbounded_text",
    "supports_lastrowid",
    "named_constraints",
    "check_constraints",
    "full_returning",
    "sql_expression_limit_offset",
    "ctes_with_update_delete",
    "percent_schema_names",
    "order_by_label_with_expression",
    "savepoints_w_release",
    "two_phase_recovery",
    "regexp_match_flags",
    "uuid_as_native",
    "comment_reflection_full_unicode",
    "index_reflection_dialect_options",
]


class Requirements(SuiteRequirements):
    @property
    def get_isolation_level_values(self):  # used by the isolation tests
        return exclusions.open()

    def get_isolation_levels(self, config):
        return {
            "default": "READ COMMITTED",
            "supported": ["AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ", "SERIALIZABLE"],
        }


def _opened(self):  # noqa: ARG001 - a property body
    return exclusions.open()


for _name in _OPEN:
    if _name in ("get_isolation_levels",):
        continue
    if hasattr(SuiteRequirements, _name):
        setattr(Requirements, _name, property(_opened))
