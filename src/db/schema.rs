//! The schema, hand-written with the column types common to SQLite and PostgreSQL.

diesel::table! {
    organizations (id) {
        id -> Text,
        finess -> Nullable<Text>,
        name -> Nullable<Text>,
        part_of_id -> Nullable<Text>,
        region -> Nullable<Text>,
        last_updated -> BigInt,
        resource_json -> Text,
    }
}

diesel::table! {
    locations (id) {
        id -> Text,
        functional_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
        name -> Nullable<Text>,
        name_norm -> Nullable<Text>,
        status -> Nullable<Text>,
        operational_status -> Nullable<Text>,
        type_code -> Nullable<Text>,
        address_line -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        city -> Nullable<Text>,
        commune_insee -> Nullable<Text>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        managing_org_id -> Nullable<Text>,
        region -> Nullable<Text>,
        created_at -> Nullable<BigInt>,
        last_updated -> BigInt,
        json_head -> Text,
        json_tail -> Text,
        empty_head_len -> BigInt,
        empty_tail_skip -> BigInt,
        figures_json -> Nullable<Text>,
        figure_statuses -> Nullable<Text>,
        figure_assignments -> Nullable<Text>,
        lu_at -> Nullable<BigInt>,
        view_instants -> Nullable<Text>,
        sensitive -> Bool,
        city_norm -> Nullable<Text>,
        part_of_id -> Nullable<Text>,
        figures_lz4 -> Nullable<Binary>,
    }
}

diesel::table! {
    location_views (location_id, view) {
        location_id -> Text,
        view -> Text,
        last_updated -> BigInt,
    }
}

diesel::table! {
    capacities (location_id, seq) {
        location_id -> Text,
        seq -> Integer,
        observation_id -> Text,
        capacity_type -> Text,
        capacity_status -> Text,
        temporality -> Text,
        nb_capacity -> Integer,
        source_type -> Text,
        gender -> Nullable<Text>,
        update_date -> Text,
        update_date_us -> BigInt,
        closing_type -> Nullable<Text>,
        additional_bed_type -> Nullable<Text>,
        crisis_type -> Nullable<Text>,
        temporary_assignment -> Text,
        comment -> Nullable<Text>,
        last_updated -> BigInt,
        region -> Nullable<Text>,
        first_of_kind -> Bool,
    }
}

diesel::table! {
    healthcare_services (id) {
        id -> Text,
        identifier_value -> Nullable<Text>,
        name -> Nullable<Text>,
        type_code -> Nullable<Text>,
        category_code -> Nullable<Text>,
        specialty_code -> Nullable<Text>,
        sensitive_unit -> Bool,
        provided_by_id -> Nullable<Text>,
        region -> Nullable<Text>,
        created_at -> Nullable<BigInt>,
        last_updated -> BigInt,
        resource_json -> Text,
        name_norm -> Nullable<Text>,
    }
}

diesel::table! {
    healthcare_service_locations (service_id, location_id) {
        service_id -> Text,
        location_id -> Text,
    }
}

diesel::table! {
    search_tokens (resource_type, param, code, resource_id, system) {
        resource_type -> Text,
        param -> Text,
        code -> Text,
        system -> Text,
        resource_id -> Text,
    }
}

diesel::table! {
    search_tokens_shared (resource_type, param, code) {
        resource_type -> Text,
        param -> Text,
        code -> Text,
    }
}

diesel::table! {
    search_tags_off_region (code) {
        code -> Text,
    }
}

diesel::table! {
    search_index_state (id) {
        id -> Integer,
        version -> Integer,
    }
}

diesel::table! {
    data_generation (id) {
        id -> Integer,
        generation -> BigInt,
    }
}

diesel::table! {
    location_positions (location_id) {
        location_id -> Text,
        latitude -> Double,
        longitude -> Double,
        x -> Double,
        y -> Double,
        z -> Double,
    }
}

diesel::table! {
    import_runs (id) {
        id -> BigInt,
        finished_at -> BigInt,
        source -> Text,
        resources -> BigInt,
        inserted -> BigInt,
        updated -> BigInt,
        unchanged -> BigInt,
    }
}

diesel::table! {
    capacity_totals (region, departement, capacity_type, capacity_status, temporality, temporary_assignment, sensitive) {
        region -> Text,
        departement -> Text,
        capacity_type -> Text,
        capacity_status -> Text,
        temporality -> Text,
        temporary_assignment -> Text,
        sensitive -> Bool,
        nb -> BigInt,
        figures -> BigInt,
    }
}

diesel::table! {
    area_view_instants (view, region, departement) {
        view -> Text,
        region -> Text,
        departement -> Text,
        last_updated -> BigInt,
    }
}
