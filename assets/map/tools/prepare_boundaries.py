#!/usr/bin/env python3
"""Builds assets/map/departements.json from gregoiredavid/france-geojson (IGN Admin Express COG
2018, INSEE COG 2018, Licence Ouverte / Etalab): see ../SOURCE.md.

    python3 prepare_boundaries.py departements-version-simplifiee.geojson \
        departements-avec-outre-mer.geojson > ../departements.json

The metropolitan départements come from the 5 % "version simplifiee" file as they are; the five
overseas départements (absent from it) from the full file, simplified here with Douglas-Peucker.
Coordinates are rounded to 3 decimals (about 100 m) and written as flat [lon, lat, lon, lat, ...]
rings; rings that round to fewer than 4 points are dropped. Each feature carries its région code
(INSEE COG), so that the page can group départements without another file.
"""
import json
import math
import sys

REGION = {
    "01": "84", "02": "32", "03": "84", "04": "93", "05": "93", "06": "93", "07": "84", "08": "44",
    "09": "76", "10": "44", "11": "76", "12": "76", "13": "93", "14": "28", "15": "84", "16": "75",
    "17": "75", "18": "24", "19": "75", "2A": "94", "2B": "94", "21": "27", "22": "53", "23": "75",
    "24": "75", "25": "27", "26": "84", "27": "28", "28": "24", "29": "53", "30": "76", "31": "76",
    "32": "76", "33": "75", "34": "76", "35": "53", "36": "24", "37": "24", "38": "84", "39": "27",
    "40": "75", "41": "24", "42": "84", "43": "84", "44": "52", "45": "24", "46": "76", "47": "75",
    "48": "76", "49": "52", "50": "28", "51": "44", "52": "44", "53": "52", "54": "44", "55": "44",
    "56": "53", "57": "44", "58": "27", "59": "32", "60": "32", "61": "28", "62": "32", "63": "84",
    "64": "75", "65": "76", "66": "76", "67": "44", "68": "44", "69": "84", "70": "27", "71": "27",
    "72": "52", "73": "84", "74": "84", "75": "11", "76": "28", "77": "11", "78": "11", "79": "75",
    "80": "32", "81": "76", "82": "76", "83": "93", "84": "93", "85": "52", "86": "75", "87": "75",
    "88": "44", "89": "27", "90": "27", "91": "11", "92": "11", "93": "11", "94": "11", "95": "11",
    "971": "01", "972": "02", "973": "03", "974": "04", "976": "06",
}
REGION_NAMES = {
    "11": "Île-de-France", "24": "Centre-Val de Loire", "27": "Bourgogne-Franche-Comté",
    "28": "Normandie", "32": "Hauts-de-France", "44": "Grand Est", "52": "Pays de la Loire",
    "53": "Bretagne", "75": "Nouvelle-Aquitaine", "76": "Occitanie", "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur", "94": "Corse", "01": "Guadeloupe", "02": "Martinique",
    "03": "Guyane", "04": "La Réunion", "06": "Mayotte",
}
OVERSEAS_TOLERANCE = 0.004  # degrees


def perpendicular(p, a, b):
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return math.hypot(x - x1, y - y1)
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / math.hypot(dx, dy)


def douglas_peucker(points, tol):
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        best, at = 0.0, None
        for k in range(i + 1, j):
            d = perpendicular(points[k], points[i], points[j])
            if d > best:
                best, at = d, k
        if at is not None and best > tol:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, k in zip(points, keep) if k]


def ring(points, tol):
    if tol:
        points = douglas_peucker(points, tol)
    out = []
    for lon, lat in points:
        q = (round(lon, 3), round(lat, 3))
        if not out or out[-1] != q:
            out.append(q)
    if len(out) < 4:
        return None
    return [v for q in out for v in q]


def polygons(geometry, tol):
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    result = []
    for poly in polys:
        rings = [r for r in (ring(rg, tol) for rg in poly) if r]
        if rings:
            result.append(rings)
    return result


def main(metro_path, full_path):
    metro = json.load(open(metro_path, encoding="utf-8"))["features"]
    full = json.load(open(full_path, encoding="utf-8"))["features"]
    features = [(f, 0) for f in metro] + [(f, OVERSEAS_TOLERANCE) for f in full if len(f["properties"]["code"]) == 3]
    out = []
    for f, tol in sorted(features, key=lambda t: t[0]["properties"]["code"]):
        code = f["properties"]["code"]
        out.append({"code": code, "name": f["properties"]["nom"], "region": REGION[code], "polygons": polygons(f["geometry"], tol)})
    doc = {
        "source": "IGN Admin Express COG 2018 and INSEE COG 2018, via gregoiredavid/france-geojson; Licence Ouverte / Open Licence (Etalab)",
        "regions": REGION_NAMES,
        "departements": out,
    }
    json.dump(doc, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
