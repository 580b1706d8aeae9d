DROP TABLE area_view_instants;
DROP TABLE capacity_totals;
