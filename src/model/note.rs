//! Notes: the facts about a signature that the `notes` column shows.
//! Typed where code must recognise a note again (to replace or withdraw
//! it); the words are written only when a finding or `inspect` renders them.

/// One note about a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The integrity verdict when it is not `valid`, rendered from the
    /// signature's integrity and reason. [`super::signature::Signature::set_integrity`]
    /// keeps exactly one, where the latest verdict was given.
    Integrity,
    /// What a PDF signature's revision covers. `later_updates_benign`: it
    /// says the signed revision is intact and later updates only add
    /// signatures or LTV data, a claim withdrawn if a later update turns
    /// out to have taken the signature out.
    Coverage { text: String, later_updates_benign: bool },
    /// Any other fact, as found.
    Said(String),
}
