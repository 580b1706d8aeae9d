DROP TABLE search_tokens;
DROP TABLE healthcare_service_locations;
DROP TABLE healthcare_services;
DROP TABLE capacities;
DROP TABLE locations;
DROP TABLE organizations;
