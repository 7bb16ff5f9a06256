//! Trigger times of WFM update specifications: whole seconds since
//! 1970-01-01 UTC (`gmt_sec`) and a fraction (`frac_sec`).

/// `gmt_sec` seconds since 1970-01-01 UTC plus `frac_sec`, as
/// `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
pub(super) fn utc_time(gmt_sec: i32, frac_sec: f64) -> String {
    let secs = i64::from(gmt_sec);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (H. Hinnant, "chrono-compatible low-level date algorithms").
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let frac = if (0.0..1.0).contains(&frac_sec) {
        frac_sec
    } else {
        0.0
    };
    let nanos = ((frac * 1e9).round() as u64).min(999_999_999);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_times_are_utc() {
        assert_eq!(utc_time(0, 0.0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            utc_time(1_700_000_000, 0.25),
            "2023-11-14T22:13:20.250000000Z"
        );
        assert_eq!(utc_time(951_782_400, 0.0), "2000-02-29T00:00:00.000000000Z");
    }
}
