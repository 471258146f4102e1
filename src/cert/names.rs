//! Distinguished names as people read them, and the folding that lets
//! "Ban Co yeu Chinh phu" (G1, ASCII) match "Ban Cơ yếu Chính phủ" (G2).

/// One attribute of a name, in certificate order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NameAttr {
    /// Short label (CN, O, OU, C, L, ST, E, UID, T) or the dotted OID.
    pub label: String,
    pub value: String,
}

/// A decoded distinguished name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Name {
    pub attrs: Vec<NameAttr>,
}

impl Name {
    /// Values of one attribute type, e.g. `values("O")`.
    pub fn values(&self, label: &str) -> Vec<&str> {
        self.attrs.iter().filter(|a| a.label == label).map(|a| a.value.as_str()).collect()
    }

    pub fn first(&self, label: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.label == label).map(|a| a.value.as_str())
    }

    /// The common name, or the whole DN when there is none.
    pub fn cn_or_dn(&self) -> String {
        self.first("CN").map(str::to_owned).unwrap_or_else(|| self.to_string())
    }

    /// A comparison key that ignores attribute order, case, spacing and
    /// Vietnamese diacritics. Used to *find* candidate issuers and to match
    /// DN facts in the rules; never as proof (signatures are the proof).
    /// The name as RFC 5280 §7.1 compares names for chaining: attributes
    /// in order, values case-folded with white space collapsed (no
    /// diacritic folding: "Cơ yếu" and "Co yeu" are different names).
    pub fn compare_key(&self) -> Vec<(String, String)> {
        self.attrs
            .iter()
            .map(|a| {
                (
                    a.label.clone(),
                    a.value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase(),
                )
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    pub fn folded_key(&self) -> Vec<(String, String)> {
        let mut key: Vec<_> =
            self.attrs.iter().map(|a| (a.label.clone(), fold(&a.value))).collect();
        key.sort();
        key
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, a) in self.attrs.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={}", a.label, a.value)?;
        }
        Ok(())
    }
}

/// Parses a DN written as in the rules and in OpenSSL output:
/// `C=VN, O=Ban Cơ yếu Chính phủ, CN=...`. Commas inside values may be
/// escaped with a backslash.
pub(crate) fn parse_dn(text: &str) -> Result<Name, super::CertError> {
    let mut attrs = Vec::new();
    let mut current = String::new();
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ',' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (label, value) = part
            .split_once('=')
            .ok_or_else(|| super::CertError::BadName(format!("`{part}` is not LABEL=value")))?;
        let label = normalise_label(label.trim());
        if label.is_empty() {
            return Err(super::CertError::BadName(format!("`{part}` has an empty attribute name")));
        }
        attrs.push(NameAttr { label, value: value.trim().to_owned() });
    }
    if attrs.is_empty() {
        return Err(super::CertError::BadName("empty distinguished name".into()));
    }
    Ok(Name { attrs })
}

fn normalise_label(label: &str) -> String {
    match label.to_ascii_uppercase().as_str() {
        "EMAILADDRESS" | "EMAIL" => "E".into(),
        "S" => "ST".into(),
        "OID.0.9.2342.19200300.100.1.1" | "USERID" => "UID".into(),
        "OID.2.5.4.12" | "TITLE" => "T".into(),
        other => other.to_owned(),
    }
}

/// Label for an attribute OID (dotted form).
pub(crate) fn label_for_oid(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "T",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.97" => "ORGID",
        "1.2.840.113549.1.9.1" => "E",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// Lower-case, strip diacritics (NFD, drop combining marks, đ → d) and
/// collapse whitespace: "Cơ quan  chứng thực" → "co quan chung thuc".
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut push = |c: char, out: &mut String| {
        if !c.is_ascii() && unicode_normalization::char::is_combining_mark(c) {
            return;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            return;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    };
    // Char by char: ASCII needs no decomposition (paths are mostly ASCII;
    // this runs for every file of a scan).
    for c in text.chars() {
        if c.is_ascii() {
            push(c, &mut out);
        } else {
            unicode_normalization::char::decompose_canonical(c, |d| push(d, &mut out));
        }
    }
    out
}

/// Decodes an X.501 DirectoryString by its tag: UTF8String, PrintableString,
/// IA5String, NumericString, TeletexString (as Latin-1), BMPString (UTF-16BE,
/// the OpenSSL default for non-ASCII in older tools) and UniversalString.
pub(crate) fn decode_directory_string(tag: u32, bytes: &[u8]) -> String {
    match tag {
        0x1e => {
            let units: Vec<u16> =
                bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        0x1c => bytes
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}')
            })
            .collect(),
        0x14 => match std::str::from_utf8(bytes) {
            // Many tools put UTF-8 in TeletexString; fall back to Latin-1.
            Ok(s) => s.to_owned(),
            Err(_) => bytes.iter().map(|&b| b as char).collect(),
        },
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_matches_g1_and_g2_spellings() {
        assert_eq!(fold("Ban Cơ yếu Chính phủ"), fold("Ban Co yeu Chinh phu"));
        assert_eq!(fold("CA phục vụ các cơ quan  Đảng G2"), "ca phuc vu cac co quan dang g2");
        // NFC and NFD spellings of the same word fold alike.
        assert_eq!(fold("Thanh Ho\u{0061}\u{0301}"), fold("Thanh Hoá"));
    }

    #[test]
    fn parse_dn_handles_escapes_and_labels() {
        let n = parse_dn(r"C=VN, O=Công ty A\, B, emailAddress=a@b.vn, CN=X").unwrap();
        assert_eq!(n.first("O"), Some("Công ty A, B"));
        assert_eq!(n.first("E"), Some("a@b.vn"));
        assert!(parse_dn("garbage").is_err());
        let other = parse_dn("CN=x, O=công ty a, b, C=VN");
        assert!(other.is_err(), "unescaped comma splits into a bad part");
    }

    #[test]
    fn folded_key_ignores_order() {
        let a = parse_dn("C=VN, O=Ban Cơ yếu Chính phủ, CN=RootCA").unwrap();
        let b = parse_dn("CN=rootca, O=Ban Co yeu Chinh phu, C=VN").unwrap();
        assert_eq!(a.folded_key(), b.folded_key());
    }

    #[test]
    fn bmp_and_universal_strings_decode() {
        let bmp: Vec<u8> = "Lê Hoàng Đức".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(decode_directory_string(0x1e, &bmp), "Lê Hoàng Đức");
        let uni: Vec<u8> = "Đà".chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        assert_eq!(decode_directory_string(0x1c, &uni), "Đà");
    }
}
