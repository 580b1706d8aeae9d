//! The names statements use for tables and columns, next to `schema.rs` and taken from it: a
//! column is named through its diesel column type (`diesel::Column::NAME`), so a column renamed or
//! removed in the schema breaks the build here rather than a query at run time; table names are
//! checked against the schema by a test. Statement text built in `db::sql` and `db::write` names
//! tables and columns through these wherever the code chooses them.

#![allow(missing_docs)]

use diesel::Column;

use super::schema;

/// A table or column name of `schema.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ident(&'static str);

impl Ident {
    /// The name.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

const fn col<C: Column>() -> Ident {
    Ident(C::NAME)
}

/// `organizations`.
pub mod organizations {
    use super::{Ident, col, schema::organizations as t};

    pub const TABLE: Ident = Ident("organizations");
    pub const ID: Ident = col::<t::id>();
    pub const FINESS: Ident = col::<t::finess>();
    pub const NAME: Ident = col::<t::name>();
    pub const PART_OF_ID: Ident = col::<t::part_of_id>();
    pub const REGION: Ident = col::<t::region>();
    pub const LAST_UPDATED: Ident = col::<t::last_updated>();
    pub const RESOURCE_JSON: Ident = col::<t::resource_json>();
}

/// `locations`.
pub mod locations {
    use super::{Ident, col, schema::locations as t};

    pub const TABLE: Ident = Ident("locations");
    pub const ID: Ident = col::<t::id>();
    pub const FUNCTIONAL_ID: Ident = col::<t::functional_id>();
    pub const EXTERNAL_ID: Ident = col::<t::external_id>();
    pub const NAME: Ident = col::<t::name>();
    pub const NAME_NORM: Ident = col::<t::name_norm>();
    pub const STATUS: Ident = col::<t::status>();
    pub const OPERATIONAL_STATUS: Ident = col::<t::operational_status>();
    pub const TYPE_CODE: Ident = col::<t::type_code>();
    pub const ADDRESS_LINE: Ident = col::<t::address_line>();
    pub const POSTAL_CODE: Ident = col::<t::postal_code>();
    pub const CITY: Ident = col::<t::city>();
    pub const COMMUNE_INSEE: Ident = col::<t::commune_insee>();
    pub const LATITUDE: Ident = col::<t::latitude>();
    pub const LONGITUDE: Ident = col::<t::longitude>();
    pub const MANAGING_ORG_ID: Ident = col::<t::managing_org_id>();
    pub const REGION: Ident = col::<t::region>();
    pub const CREATED_AT: Ident = col::<t::created_at>();
    pub const LAST_UPDATED: Ident = col::<t::last_updated>();
    pub const JSON_HEAD: Ident = col::<t::json_head>();
    pub const JSON_TAIL: Ident = col::<t::json_tail>();
    pub const EMPTY_HEAD_LEN: Ident = col::<t::empty_head_len>();
    pub const EMPTY_TAIL_SKIP: Ident = col::<t::empty_tail_skip>();
    pub const FIGURES_JSON: Ident = col::<t::figures_json>();
    pub const FIGURES_LZ4: Ident = col::<t::figures_lz4>();
    pub const FIGURE_STATUSES: Ident = col::<t::figure_statuses>();
    pub const FIGURE_ASSIGNMENTS: Ident = col::<t::figure_assignments>();
    pub const LU_AT: Ident = col::<t::lu_at>();
    pub const VIEW_INSTANTS: Ident = col::<t::view_instants>();
    pub const SENSITIVE: Ident = col::<t::sensitive>();
    pub const CITY_NORM: Ident = col::<t::city_norm>();
    pub const PART_OF_ID: Ident = col::<t::part_of_id>();
}

/// `location_views`.
pub mod location_views {
    use super::{Ident, col, schema::location_views as t};

    pub const TABLE: Ident = Ident("location_views");
    pub const LOCATION_ID: Ident = col::<t::location_id>();
    pub const VIEW: Ident = col::<t::view>();
    pub const LAST_UPDATED: Ident = col::<t::last_updated>();
}

/// `capacities`.
pub mod capacities {
    use super::{Ident, col, schema::capacities as t};

    pub const TABLE: Ident = Ident("capacities");
    pub const LOCATION_ID: Ident = col::<t::location_id>();
    pub const SEQ: Ident = col::<t::seq>();
    pub const OBSERVATION_ID: Ident = col::<t::observation_id>();
    pub const CAPACITY_TYPE: Ident = col::<t::capacity_type>();
    pub const CAPACITY_STATUS: Ident = col::<t::capacity_status>();
    pub const TEMPORALITY: Ident = col::<t::temporality>();
    pub const NB_CAPACITY: Ident = col::<t::nb_capacity>();
    pub const SOURCE_TYPE: Ident = col::<t::source_type>();
    pub const GENDER: Ident = col::<t::gender>();
    pub const UPDATE_DATE: Ident = col::<t::update_date>();
    pub const UPDATE_DATE_US: Ident = col::<t::update_date_us>();
    pub const CLOSING_TYPE: Ident = col::<t::closing_type>();
    pub const ADDITIONAL_BED_TYPE: Ident = col::<t::additional_bed_type>();
    pub const CRISIS_TYPE: Ident = col::<t::crisis_type>();
    pub const TEMPORARY_ASSIGNMENT: Ident = col::<t::temporary_assignment>();
    pub const COMMENT: Ident = col::<t::comment>();
    pub const LAST_UPDATED: Ident = col::<t::last_updated>();
    pub const REGION: Ident = col::<t::region>();
    pub const FIRST_OF_KIND: Ident = col::<t::first_of_kind>();
}

/// `healthcare_services`.
pub mod healthcare_services {
    use super::{Ident, col, schema::healthcare_services as t};

    pub const TABLE: Ident = Ident("healthcare_services");
    pub const ID: Ident = col::<t::id>();
    pub const IDENTIFIER_VALUE: Ident = col::<t::identifier_value>();
    pub const NAME: Ident = col::<t::name>();
    pub const TYPE_CODE: Ident = col::<t::type_code>();
    pub const CATEGORY_CODE: Ident = col::<t::category_code>();
    pub const SPECIALTY_CODE: Ident = col::<t::specialty_code>();
    pub const SENSITIVE_UNIT: Ident = col::<t::sensitive_unit>();
    pub const PROVIDED_BY_ID: Ident = col::<t::provided_by_id>();
    pub const REGION: Ident = col::<t::region>();
    pub const CREATED_AT: Ident = col::<t::created_at>();
    pub const LAST_UPDATED: Ident = col::<t::last_updated>();
    pub const RESOURCE_JSON: Ident = col::<t::resource_json>();
    pub const NAME_NORM: Ident = col::<t::name_norm>();
}

/// `location_positions`.
pub mod location_positions {
    use super::{Ident, col, schema::location_positions as t};

    pub const TABLE: Ident = Ident("location_positions");
    pub const LOCATION_ID: Ident = col::<t::location_id>();
    pub const LATITUDE: Ident = col::<t::latitude>();
    pub const LONGITUDE: Ident = col::<t::longitude>();
    pub const X: Ident = col::<t::x>();
    pub const Y: Ident = col::<t::y>();
    pub const Z: Ident = col::<t::z>();
}

/// `healthcare_service_locations`.
pub mod healthcare_service_locations {
    use super::{Ident, col, schema::healthcare_service_locations as t};

    pub const TABLE: Ident = Ident("healthcare_service_locations");
    pub const SERVICE_ID: Ident = col::<t::service_id>();
    pub const LOCATION_ID: Ident = col::<t::location_id>();
}

/// `search_tokens`.
pub mod search_tokens {
    use super::{Ident, col, schema::search_tokens as t};

    pub const TABLE: Ident = Ident("search_tokens");
    pub const RESOURCE_TYPE: Ident = col::<t::resource_type>();
    pub const PARAM: Ident = col::<t::param>();
    pub const CODE: Ident = col::<t::code>();
    pub const SYSTEM: Ident = col::<t::system>();
    pub const RESOURCE_ID: Ident = col::<t::resource_id>();
}

/// `search_tokens_shared`: the codes some resource holds in several systems.
pub mod search_tokens_shared {
    use super::{Ident, col, schema::search_tokens_shared as t};

    pub const TABLE: Ident = Ident("search_tokens_shared");
    pub const RESOURCE_TYPE: Ident = col::<t::resource_type>();
    pub const PARAM: Ident = col::<t::param>();
    pub const CODE: Ident = col::<t::code>();
}

/// `search_tags_off_region`: the `_tag` codes some place holds other than as its région.
pub mod search_tags_off_region {
    use super::{Ident, col, schema::search_tags_off_region as t};

    pub const TABLE: Ident = Ident("search_tags_off_region");
    pub const CODE: Ident = col::<t::code>();
}

/// `location_text` and `service_text`: the normalised strings of places and offers, indexed by
/// trigrams for `:contains` (on SQLite an FTS5 table kept by triggers, on PostgreSQL a view of
/// the table, whose columns carry `pg_trgm` indexes). Not diesel tables: named here, with the
/// columns of the tables they mirror.
pub mod text {
    use super::Ident;

    pub const LOCATIONS: Ident = Ident("location_text");
    pub const SERVICES: Ident = Ident("service_text");
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sqlite::Sqlite;

    use super::schema;

    fn table_of<Q: diesel::query_builder::QueryFragment<Sqlite>>(q: Q) -> String {
        let text = diesel::debug_query::<Sqlite, _>(&q).to_string();
        text.split("FROM `").nth(1).and_then(|t| t.split('`').next()).unwrap_or_default().to_owned()
    }

    #[test]
    fn table_names_are_the_schema_s() {
        assert_eq!(
            table_of(schema::organizations::table.select(schema::organizations::id)),
            super::organizations::TABLE.as_str()
        );
        assert_eq!(table_of(schema::locations::table.select(schema::locations::id)), super::locations::TABLE.as_str());
        assert_eq!(
            table_of(schema::location_views::table.select(schema::location_views::view)),
            super::location_views::TABLE.as_str()
        );
        assert_eq!(
            table_of(schema::capacities::table.select(schema::capacities::seq)),
            super::capacities::TABLE.as_str()
        );
        assert_eq!(
            table_of(schema::healthcare_services::table.select(schema::healthcare_services::id)),
            super::healthcare_services::TABLE.as_str()
        );
        assert_eq!(
            table_of(
                schema::healthcare_service_locations::table.select(schema::healthcare_service_locations::service_id)
            ),
            super::healthcare_service_locations::TABLE.as_str()
        );
        assert_eq!(
            table_of(schema::search_tokens::table.select(schema::search_tokens::code)),
            super::search_tokens::TABLE.as_str()
        );
        assert_eq!(
            table_of(schema::search_tokens_shared::table.select(schema::search_tokens_shared::code)),
            super::search_tokens_shared::TABLE.as_str()
        );
        assert_eq!(
            table_of(schema::search_tags_off_region::table.select(schema::search_tags_off_region::code)),
            super::search_tags_off_region::TABLE.as_str()
        );
        assert_eq!(super::capacities::CAPACITY_STATUS.as_str(), "capacity_status");
    }
}
