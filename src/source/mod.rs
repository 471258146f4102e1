//! Where bytes come from: the crawl of directories and files given as
//! SOURCE arguments, and reading them without touching them.

pub mod imap;
pub mod read;
pub mod walk;

pub use read::{ReadLimits, open_noatime};
pub use walk::{Input, WalkOptions, walk};
