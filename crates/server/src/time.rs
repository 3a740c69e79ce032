//! Time as the server stores it (Unix seconds, UTC) and as the API shows it (RFC 3339).

use chrono::{DateTime, Utc};

pub type Timestamp = i64;

pub fn now() -> Timestamp {
    Utc::now().timestamp()
}

/// A stored time as the API shows it; out-of-range values (never stored by us) become the epoch.
pub fn to_utc(seconds: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}
