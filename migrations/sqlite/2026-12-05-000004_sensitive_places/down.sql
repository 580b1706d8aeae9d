DROP INDEX locations_sensitive_only;
