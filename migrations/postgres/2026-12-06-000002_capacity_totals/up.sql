-- Capacity totals per source region, département, capacity type, status, temporality, temporary
-- assignment and sensitive place (the keys a consumer's scope filters figures by), and the latest
-- instant of each access view of the places per source region and département: the MeasureReport
-- aggregates read these few thousand rows instead of every figure. Rebuilt by every import (and
-- start-up rewrite) in its own transaction (`db::totals::refresh`), filled here for the data
-- already stored. `departement` is the INSEE code's département of the place's commune ('' when
-- the place has none).
CREATE TABLE capacity_totals (
    region TEXT NOT NULL,
    departement TEXT NOT NULL,
    capacity_type TEXT NOT NULL,
    capacity_status TEXT NOT NULL,
    temporality TEXT NOT NULL,
    temporary_assignment TEXT NOT NULL,
    sensitive BOOLEAN NOT NULL,
    nb BIGINT NOT NULL,
    figures BIGINT NOT NULL,
    PRIMARY KEY (region, departement, capacity_type, capacity_status, temporality, temporary_assignment, sensitive)
);

CREATE TABLE area_view_instants (
    view TEXT NOT NULL,
    region TEXT NOT NULL,
    departement TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    PRIMARY KEY (view, region, departement)
);

INSERT INTO capacity_totals
SELECT COALESCE(l.region, ''),
       CASE WHEN l.commune_insee IS NULL OR length(l.commune_insee) < 5 THEN ''
            WHEN substr(l.commune_insee, 1, 2) IN ('97', '98') THEN substr(l.commune_insee, 1, 3)
            ELSE substr(l.commune_insee, 1, 2) END,
       c.capacity_type, c.capacity_status, c.temporality, c.temporary_assignment, l.sensitive,
       SUM(c.nb_capacity), COUNT(*)
FROM capacities c JOIN locations l ON l.id = c.location_id
GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO area_view_instants
SELECT v.view, COALESCE(l.region, ''),
       CASE WHEN l.commune_insee IS NULL OR length(l.commune_insee) < 5 THEN ''
            WHEN substr(l.commune_insee, 1, 2) IN ('97', '98') THEN substr(l.commune_insee, 1, 3)
            ELSE substr(l.commune_insee, 1, 2) END,
       MAX(v.last_updated)
FROM location_views v JOIN locations l ON l.id = v.location_id
GROUP BY 1, 2, 3;
