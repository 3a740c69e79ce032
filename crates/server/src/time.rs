//! Time as the server stores it (Unix seconds, UTC) and as the API shows it (RFC 3339).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub type Timestamp = i64;

pub fn now() -> Timestamp {
    Utc::now().timestamp()
}

/// An IANA time zone by name (`Europe/London`, `UTC`).
pub fn zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!("{name:?} is not a time zone; use an IANA name like \"Europe/London\" or \"UTC\"")
    })
}

/// A stored time as the API shows it; out-of-range values (never stored by us) become the epoch.
pub fn to_utc(seconds: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_read_by_their_iana_names() {
        assert_eq!(zone("Europe/London"), Ok(chrono_tz::Europe::London));
        assert_eq!(zone("UTC"), Ok(chrono_tz::UTC));
        assert!(zone("Mars/Olympus").unwrap_err().contains("IANA"));
        assert!(zone("").is_err());
    }
}
