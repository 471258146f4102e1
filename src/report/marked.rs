//! Text from a scanned file, made safe to show: control characters (a
//! terminal obeys `ESC[31m`, `ESC]0;…BEL`, `CR ESC[2K`) and bidirectional
//! overrides (U+202E makes `gpj.exe` read `exe.jpg`) are written as visible
//! escapes such as `\x1b` and `\u{202e}`. Line breaks stay. One rule for
//! the terminal, the CSV files and the HTML pages.

use std::borrow::Cow;

/// Characters that change how the text around them is shown.
fn is_hidden_control(c: char) -> bool {
    // The Arabic letter mark, LRM and RLM, the embeddings and overrides
    // (LRE..RLO), the isolates (LRI..PDI).
    let bidi = matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    );
    (c.is_control() && c != '\n') || bidi
}

pub(crate) fn mark(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !is_hidden_control(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn controls_and_overrides_become_visible() {
        assert_eq!(super::mark("Nguyễn Văn A"), "Nguyễn Văn A");
        assert_eq!(super::mark("a\u{1b}]0;x\u{7}b"), "a\\x1b]0;x\\x07b");
        assert_eq!(super::mark("\r\u{1b}[2Kok\n"), "\\x0d\\x1b[2Kok\n");
        assert_eq!(super::mark("gpj\u{202e}.exe\0"), "gpj\\u{202e}.exe\\x00");
    }
}
