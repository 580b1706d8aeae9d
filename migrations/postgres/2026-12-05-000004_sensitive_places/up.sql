-- The few places linked to a sensitive unit: a figure is hidden from scopes that hide sensitive
-- units when its place is one of them (db::sql::scope::figure_visible reads this index).
CREATE INDEX locations_sensitive_only ON locations (id) WHERE sensitive = TRUE;
