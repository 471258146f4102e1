//! The model: plain data that flows from the extractors to the reports.
//! Nothing here parses, verifies, classifies or writes; every layer above
//! reads and fills these types.
//!
//! Its files, in layers: a file uses only files of a lower layer
//! (tests/all/layers.rs; this module's own file is above them all).
//!
//! ```text
//! layer  files               what they hold
//! 0      note verdict        notes and integrity reasons; verdict columns
//! 1      signature           one signature with its certificates and signed facts
//! 2      extraction finding  what one item yielded; a classified, attributed signature
//! 3      result              what a scan found
//! ```

pub(crate) mod extraction;
pub(crate) mod finding;
pub(crate) mod note;
pub(crate) mod result;
pub(crate) mod signature;
pub(crate) mod verdict;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Vietnam's time (Asia/Ho_Chi_Minh: UTC+7 all year, no daylight saving),
/// in which the pages show dates and group audits by month.
pub(crate) const VIETNAM: time::UtcOffset = time::macros::offset!(+7);

/// The year and month of `t` in Vietnam's time, as "2026-11".
pub(crate) fn vietnam_month(t: OffsetDateTime) -> String {
    let local = t.to_offset(VIETNAM);
    format!("{:04}-{:02}", local.year(), local.month() as u8)
}

/// A time as the reports write it: RFC 3339, UTC, whole seconds.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}
