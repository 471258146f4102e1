//! What one item (a file, a message, a member) yielded: its signatures,
//! and what could not be read in it.

use crate::messages::Stage;

use super::signature::Signature;

/// Signatures found in one item, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub signatures: Vec<Signature>,
    pub problems: Vec<Problem>,
    /// Other files the result depends on (a detached signature's data and
    /// the folder it was looked up in).
    pub depends_on: Vec<std::path::PathBuf>,
    /// SHA-256 (hex) of the file, when it was read whole.
    pub content_sha256: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub member: String,
    pub stage: Stage,
    pub error: String,
}

impl Extraction {
    pub fn problem(
        &mut self,
        member: impl Into<String>,
        stage: Stage,
        error: impl std::fmt::Display,
    ) {
        self.problems.push(Problem { member: member.into(), stage, error: error.to_string() });
    }

    /// The unit went over its time or memory budget: one row says which,
    /// however many of its parsers noticed.
    pub fn over_budget(&mut self, member: &str, over: crate::budget::OverBudget) {
        let why = over.to_string();
        if !self.problems.iter().any(|p| p.stage == Stage::Limit && p.error.contains(&why)) {
            self.problem(member, Stage::Limit, why);
        }
    }

    /// Takes in what was found inside `member`, with member paths prefixed.
    pub fn absorb(&mut self, member: &str, inner: Extraction) {
        for mut s in inner.signatures {
            s.member = join_member(member, &s.member);
            self.signatures.push(s);
        }
        for mut p in inner.problems {
            p.member = join_member(member, &p.member);
            self.problems.push(p);
        }
    }
}

/// Joins member paths: `message 3 / Báo cáo.pdf / Signature1`.
pub(crate) fn join_member(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty()) {
        (true, _) => inner.to_owned(),
        (false, true) => outer.to_owned(),
        (false, false) => format!("{outer} / {inner}"),
    }
}
