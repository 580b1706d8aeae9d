//! The `near` parameter of Location: `latitude|longitude|distance|unit` (WGS84 degrees; distance
//! in `km`, the default, or `m`), and the geometry its SQL uses: a latitude/longitude box that
//! holds every point within the distance (read through an index), then the exact great-circle test
//! as a dot product of unit vectors, `x·qx + y·qy + z·qz ≥ cos(d / R)`, which needs no
//! trigonometry in SQL (exact to about a metre: the precision of a double near 1). Pure.

/// Mean Earth radius, in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Distance used when the value gives none (FHIR leaves it to the server).
pub const DEFAULT_DISTANCE_KM: f64 = 10.0;

/// Half the circumference: every point on Earth is within it.
const MAX_DISTANCE_KM: f64 = std::f64::consts::PI * EARTH_RADIUS_KM;

/// A parsed `near` value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
    /// Distance, km.
    pub distance_km: f64,
}

/// An inclusive range of longitudes.
pub type LonRange = (f64, f64);

/// The box around a point: latitudes, and one or two longitude ranges (two when it crosses the
/// antimeridian; one of -180..180 when it reaches a pole).
#[derive(Debug, Clone, PartialEq)]
pub struct BoundingBox {
    /// Lowest and highest latitude.
    pub latitudes: (f64, f64),
    /// Longitude ranges, ORed.
    pub longitudes: Vec<LonRange>,
}

/// The unit vector of a position (degrees), in the frame the positions are stored in.
pub fn unit_vector(latitude: f64, longitude: f64) -> [f64; 3] {
    let (phi, lambda) = (latitude.to_radians(), longitude.to_radians());
    [phi.cos() * lambda.cos(), phi.cos() * lambda.sin(), phi.sin()]
}

/// Whether a stored position is a position (finite, within the degree ranges).
pub fn is_position(latitude: f64, longitude: f64) -> bool {
    latitude.is_finite() && longitude.is_finite() && latitude.abs() <= 90.0 && longitude.abs() <= 180.0
}

/// The great-circle distance between two positions, km.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (u, v) = (unit_vector(a.0, a.1), unit_vector(b.0, b.1));
    // atan2 of the cross and dot products: accurate at every distance.
    let cross = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    let sin = (cross[0].powi(2) + cross[1].powi(2) + cross[2].powi(2)).sqrt();
    let cos = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    sin.atan2(cos) * EARTH_RADIUS_KM
}

impl Near {
    /// The centre's unit vector.
    pub fn vector(&self) -> [f64; 3] {
        unit_vector(self.latitude, self.longitude)
    }

    /// The smallest dot product of a point within the distance with the centre.
    pub fn min_dot(&self) -> f64 {
        (self.distance_km / EARTH_RADIUS_KM).cos()
    }

    /// The box holding every point within the distance (slightly widened against rounding).
    pub fn bounding_box(&self) -> BoundingBox {
        let angle = (self.distance_km / EARTH_RADIUS_KM).to_degrees() * 1.000_001 + 1e-9;
        let (lo, hi) = (self.latitude - angle, self.latitude + angle);
        if lo <= -90.0 || hi >= 90.0 {
            return BoundingBox { latitudes: (lo.max(-90.0), hi.min(90.0)), longitudes: vec![(-180.0, 180.0)] };
        }
        // The widest longitude span of the circle (at the latitude where it is tangent to a meridian).
        let ratio = (angle.to_radians().sin() / self.latitude.to_radians().cos()).min(1.0);
        let span = ratio.asin().to_degrees() * 1.000_001 + 1e-9;
        let (west, east) = (self.longitude - span, self.longitude + span);
        let longitudes = if span >= 180.0 || ratio >= 1.0 {
            vec![(-180.0, 180.0)]
        } else if west < -180.0 {
            vec![(west + 360.0, 180.0), (-180.0, east)]
        } else if east > 180.0 {
            vec![(west, 180.0), (-180.0, east - 360.0)]
        } else {
            vec![(west, east)]
        };
        BoundingBox { latitudes: (lo, hi), longitudes }
    }
}

fn number(part: &str, what: &str) -> Result<f64, String> {
    let v: f64 = part.trim().parse().map_err(|_| format!("{what} {:?} is not a number", quote(part)))?;
    if !v.is_finite() {
        return Err(format!("{what} is not a finite number"));
    }
    Ok(v)
}

fn quote(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Parses `latitude|longitude[|distance[|unit]]`.
pub fn parse_near(value: &str) -> Result<Near, String> {
    let parts: Vec<&str> = value.split('|').collect();
    if !(2..=4).contains(&parts.len()) {
        return Err("near is latitude|longitude|distance|unit (distance and unit optional)".into());
    }
    let latitude = number(parts[0], "latitude")?;
    let longitude = number(parts[1], "longitude")?;
    if !is_position(latitude, longitude) {
        return Err("near: the latitude is within -90..90 and the longitude within -180..180 (WGS84 degrees)".into());
    }
    let distance = match parts.get(2).filter(|d| !d.is_empty()) {
        Some(d) => number(d, "distance")?,
        None => DEFAULT_DISTANCE_KM,
    };
    if distance < 0.0 {
        return Err("near: the distance is not negative".into());
    }
    let km = match parts.get(3).copied().unwrap_or("km") {
        "km" | "" => distance,
        "m" => distance / 1000.0,
        other => return Err(format!("near: unit {:?} is not supported (km or m)", quote(other))),
    };
    Ok(Near { latitude, longitude, distance_km: km.min(MAX_DISTANCE_KM) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &str) -> Near {
        parse_near(v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    #[test]
    fn values_and_units() {
        assert_eq!(ok("48.8|2.35|5|km"), Near { latitude: 48.8, longitude: 2.35, distance_km: 5.0 });
        assert_eq!(ok("48.8|2.35|500|m").distance_km, 0.5);
        assert_eq!(ok("48.8|2.35|5").distance_km, 5.0);
        assert_eq!(ok("48.8|2.35").distance_km, DEFAULT_DISTANCE_KM);
        assert_eq!(ok("48.8|2.35||km").distance_km, DEFAULT_DISTANCE_KM);
        assert!(ok("0|0|100000").distance_km <= MAX_DISTANCE_KM);
        for bad in ["", "48.8", "a|2", "48.8|b", "91|0", "0|181", "0|0|-1", "0|0|1|mi", "0|0|1|km|x", "NaN|0", "0|inf"]
        {
            assert!(parse_near(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn distances_are_great_circle() {
        // Paris – Lyon, about 392 km.
        let d = distance_km((48.8566, 2.3522), (45.764, 4.8357));
        assert!((d - 392.0).abs() < 2.0, "{d}");
        assert!(distance_km((10.0, 20.0), (10.0, 20.0)).abs() < 1e-9);
        assert!((distance_km((0.0, 0.0), (0.0, 180.0)) - MAX_DISTANCE_KM).abs() < 1e-6);
    }

    /// Every point within the distance is in the box, and passes the dot-product test; points
    /// beyond fail it (to a metre: the precision of doubles on the cosine of a tiny angle).
    #[test]
    fn the_box_holds_the_circle_and_the_test_is_exact() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..2000 {
            let near = Near {
                latitude: next() * 180.0 - 90.0,
                longitude: next() * 360.0 - 180.0,
                distance_km: next().powi(3) * 3000.0,
            };
            let (q, b, k) = (near.vector(), near.bounding_box(), near.min_dot());
            for _ in 0..20 {
                let p = (next() * 180.0 - 90.0, next() * 360.0 - 180.0);
                let p = if next() < 0.7 {
                    // Near the centre, so that both sides of the circle are tried.
                    let s = near.distance_km / 111.0 * 1.5;
                    ((near.latitude + (next() - 0.5) * s).clamp(-90.0, 90.0), near.longitude + (next() - 0.5) * s)
                } else {
                    p
                };
                if !is_position(p.0, p.1) {
                    continue;
                }
                let d = distance_km((near.latitude, near.longitude), p);
                let v = unit_vector(p.0, p.1);
                let dot = v[0] * q[0] + v[1] * q[1] + v[2] * q[2];
                if d < near.distance_km * (1.0 - 1e-9) - 0.001 {
                    let in_box = p.0 >= b.latitudes.0
                        && p.0 <= b.latitudes.1
                        && b.longitudes.iter().any(|(w, e)| p.1 >= *w && p.1 <= *e);
                    assert!(in_box, "{near:?} {p:?} {d} {b:?}");
                    assert!(dot >= k, "{near:?} {p:?}");
                } else if d > near.distance_km * (1.0 + 1e-9) + 0.001 {
                    assert!(dot < k, "{near:?} {p:?} {d}");
                }
            }
        }
    }
}
