//! Mail: S/MIME signatures (multipart/signed and opaque signed-data) and
//! every attachment, inline part and forwarded message, fed back through
//! the same extractors as files. MIME is parsed by mail-parser; the signed
//! bytes are taken from the raw message, never re-serialised.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use rayon::prelude::*;

use super::cms::{Content, from_signed_data};
use super::{DocKind, Env, Extraction, FileFormat, extract_bytes, join_member};
use crate::budget::Unit;
use crate::formats::cms::signed_data::SignedData;
use crate::messages::Stage;
use crate::model::note::Note;
use crate::model::signature::Format;

/// Header names that start a message file (.eml, Maildir).
const HEADER_NAMES: [&str; 22] = [
    "return-path",
    "received",
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "delivered-to",
    "x-",
    "dkim-signature",
    "authentication-results",
    "arc-",
    "sender",
    "reply-to",
    "cc",
    "in-reply-to",
    "references",
    "thread-topic",
    "content-transfer-encoding",
    "user-agent",
];

/// mbox mailboxes, registered in formats/mod.rs (a scan streams them:
/// scan.rs).
pub(super) const MBOX: FileFormat = FileFormat {
    name: "mbox",
    extensions: &["mbox"],
    sniff: |head, _| looks_like_mbox(head).then_some(DocKind::Mbox),
    sniff_late: super::never,
    container: true,
    marker: None,
    extract: |_, bytes, _, depth, env| extract_mbox(std::io::Cursor::new(bytes), depth, env),
    yields: &[Format::Smime],
    fuzz_target: "mail",
};

/// One message (.eml, a Maildir file), registered in formats/mod.rs.
pub(super) const MAIL: FileFormat = FileFormat {
    name: "mail",
    extensions: &["eml"],
    sniff: |head, _| looks_like_message(head).then_some(DocKind::Mail),
    sniff_late: super::never,
    container: true,
    marker: None,
    extract: |_, bytes, _, depth, env| extract_message(bytes, depth, env),
    yields: &[Format::Smime],
    fuzz_target: "mail",
};

/// Does `head` start with RFC 5322 header fields that a message has?
pub(crate) fn looks_like_message(head: &[u8]) -> bool {
    // The first line decides cheaply for almost every file (a PDF, an
    // image): only a header-field name there is worth decoding the head.
    let first_line =
        &head[..head.iter().take(1024).position(|&b| b == b'\n').unwrap_or(head.len().min(1024))];
    let Some(colon) = first_line.iter().position(|&b| b == b':') else { return false };
    let first_name = first_line[..colon].to_ascii_lowercase();
    if first_name.is_empty()
        || first_name.contains(&b' ')
        || !HEADER_NAMES.iter().any(|h| first_name.starts_with(h.as_bytes()))
    {
        return false;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(8192)]).to_ascii_lowercase();
    let known = [
        "\nfrom:",
        "\ndate:",
        "\nsubject:",
        "\nmessage-id:",
        "\nmime-version:",
        "\ncontent-type:",
        "\nto:",
    ];
    let header_end = text.find("\n\n").or_else(|| text.find("\r\n\r\n")).unwrap_or(text.len());
    let headers = format!("\n{}", &text[..header_end]);
    known.iter().filter(|k| headers.contains(*k)).count() >= 2
}

/// An mbox starts with a `From ` separator line followed by headers. A
/// full separator (`From sender date`) needs only one header field after
/// it: a first message may carry nothing but `From:`.
pub(crate) fn looks_like_mbox(head: &[u8]) -> bool {
    if !head.starts_with(b"From ") {
        return false;
    }
    let Some(nl) = head.iter().position(|&b| b == b'\n') else { return false };
    let rest = &head[nl + 1..];
    looks_like_message(rest) || (is_separator_line(&head[..nl]) && starts_with_header_field(rest))
}

/// `Name: value` on the first line (RFC 5322 field name: printable ASCII
/// without space or colon).
fn starts_with_header_field(text: &[u8]) -> bool {
    let line = &text[..text.iter().position(|&b| b == b'\n').unwrap_or(text.len())];
    line.iter().position(|&b| b == b':').is_some_and(|colon| {
        colon > 0 && colon <= 76 && line[..colon].iter().all(|&b| b.is_ascii_graphic())
    })
}

/// One message file.
pub(crate) fn extract_message(bytes: &[u8], depth: usize, env: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    // Its decoded parts take at most its own size again.
    if let Err(over) = crate::budget::reserve(bytes.len() as u64) {
        out.over_budget("", over);
        return out;
    }
    let bytes = unfold_parameters(bytes);
    match parse_mime(&bytes[..]) {
        Some(msg) => {
            let ident = identity(&msg, None);
            walk_message(&msg, msg.raw_message(), &ident, depth, env, &mut out);
        }
        None => out.problem("", Stage::Mail, "not a readable MIME message"),
    }
    out
}

/// Every message of an mbox, read as a stream: one message in memory per
/// worker, never the whole mailbox.
pub(crate) fn extract_mbox<R: Read + Send>(reader: R, depth: usize, env: &Env<'_>) -> Extraction {
    // A message in memory, its decoded parts and the parser's copy of its
    // header fit in one unit's memory budget.
    let max_message =
        env.limits.max_unpacked_bytes.min(env.limits.unit.memory / 3).min(u64::from(u32::MAX))
            as usize;
    let messages = MboxReader::new(BufReader::with_capacity(1 << 16, reader), max_message);
    let limits = env.limits;
    let mut results: Vec<(usize, Extraction)> = messages
        .par_bridge()
        .map(|item| {
            let mut out = Extraction::default();
            match item {
                MboxItem::Message { index, bytes } => {
                    // Each message gets its own budget: the mailbox as a whole
                    // is streamed, not unpacked.
                    let env = Env::new(limits, None);
                    let budget = Unit::enter_alone(limits.unit);
                    let unit = super::guarded(&format!("message {index}"), || {
                        let mut out = Extraction::default();
                        let bytes = unfold_parameters(&bytes);
                        match parse_mime(&bytes[..]) {
                            Some(msg) => {
                                let ident = identity(&msg, Some(index));
                                walk_message(
                                    &msg,
                                    msg.raw_message(),
                                    &ident,
                                    depth,
                                    &env,
                                    &mut out,
                                );
                            }
                            None => out.problem(
                                format!("message {index}"),
                                Stage::Mail,
                                "not a readable MIME message",
                            ),
                        }
                        out
                    });
                    out.absorb("", unit);
                    if let Some(over) = budget.finish() {
                        out.over_budget(&format!("message {index}"), over);
                    }
                    (index, out)
                }
                MboxItem::TooLarge { index, size } => {
                    out.problem(
                        format!("message {index}"),
                        Stage::Limit,
                        format!(
                            "a message of {size}+ bytes: reading it would need more than the {} \
                             MiB one unit may use (--unit-memory, --max-unpacked): not read",
                            limits.unit.memory.min(limits.max_unpacked_bytes) >> 20
                        ),
                    );
                    (index, out)
                }
                MboxItem::LineTooLong { index, size } => {
                    out.problem(
                        format!("message {index}"),
                        Stage::Limit,
                        format!(
                            "a line of {size} bytes (over the {MAX_LINE} bytes a mail line may \
                             take): message not read"
                        ),
                    );
                    (index, out)
                }
                MboxItem::Error { index, error } => {
                    out.problem(
                        format!("message {index}"),
                        Stage::Read,
                        format!("mailbox read failed: {error}"),
                    );
                    (index, out)
                }
            }
        })
        .collect();
    results.sort_by_key(|(i, _)| *i);
    let mut out = Extraction::default();
    for (_, e) in results {
        out.absorb("", e);
    }
    out
}

/// The S/MIME payload of an Outlook `smime.p7m`: a MIME entity
/// (multipart/signed) or a CMS signed-data (opaque).
pub(crate) fn extract_smime_blob(bytes: &[u8], depth: usize, env: &Env<'_>) -> Extraction {
    let mut out = Extraction::default();
    if super::sniff(&bytes[..bytes.len().min(64)], "")
        == Some(DocKind::Cms(super::CmsEncoding::Binary))
    {
        match SignedData::parse(bytes) {
            Ok(sd) => opaque_signed_data(&sd, "smime.p7m", None, depth, env, &mut out),
            Err(e) => {
                out.problem("smime.p7m", Stage::Cms, format!("not a readable signed-data: {e}"))
            }
        }
        return out;
    }
    match parse_mime(bytes) {
        Some(entity) => {
            let mut found = Extraction::default();
            visit(
                &entity,
                entity.raw_message(),
                0,
                "1",
                depth,
                false,
                env,
                &mut Visited::default(),
                &mut found,
            );
            out.absorb("smime.p7m", found);
        }
        None => out.problem("smime.p7m", Stage::Mail, "not a readable MIME entity"),
    }
    out
}

/// Parses a MIME message; a panic inside the parser (a bug triggered by
/// hostile input) becomes "unreadable", never a crashed scan.
fn parse_mime(bytes: &[u8]) -> Option<Message<'_>> {
    std::panic::catch_unwind(|| MessageParser::default().parse(bytes)).ok().flatten()
}

/// Old mailers fold a header right after `=`, before a quoted parameter
/// value (`boundary=\n "---=_ x _=---"`), which the MIME parser then misses.
/// Joining such folds in the top-level header block changes no byte of
/// any body part, so signed content stays exactly as sent.
fn unfold_parameters(bytes: &[u8]) -> Cow<'_, [u8]> {
    let header_end = memchr::memmem::find(bytes, b"\n\n")
        .or_else(|| memchr::memmem::find(bytes, b"\r\n\r\n"))
        .unwrap_or(0);
    let header = &bytes[..header_end];
    let folded = |i: usize| -> Option<usize> {
        // `=` then CRLF or LF, then spaces/tabs, then `"`: returns the length to drop.
        let rest = &header[i + 1..];
        let eol = if rest.starts_with(b"\r\n") {
            2
        } else if rest.starts_with(b"\n") {
            1
        } else {
            return None;
        };
        let ws = rest[eol..].iter().take_while(|b| **b == b' ' || **b == b'\t').count();
        (ws > 0 && rest.get(eol + ws) == Some(&b'"')).then_some(eol + ws)
    };
    if !header.iter().enumerate().any(|(i, &b)| b == b'=' && folded(i).is_some()) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < header.len() {
        out.push(header[i]);
        if header[i] == b'='
            && let Some(skip) = folded(i)
        {
            i += skip;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[header.len()..]);
    Cow::Owned(out)
}

/// `<message-id>`, else the position in the mailbox.
fn identity(msg: &Message<'_>, index: Option<usize>) -> String {
    match (msg.message_id(), index) {
        (Some(id), Some(i)) => format!("message {i} <{id}>"),
        (Some(id), None) => format!("<{id}>"),
        (None, Some(i)) => format!("message {i}"),
        (None, None) => "message".into(),
    }
}

fn sender(msg: &Message<'_>) -> Option<String> {
    msg.from().and_then(|a| a.first()).and_then(|a| a.address()).map(|a| a.to_ascii_lowercase())
}

/// `raw` is the buffer the part offsets of `msg` refer to: mail-parser
/// keeps the offsets of a forwarded message's parts relative to the
/// outermost message, not to the forwarded one.
fn walk_message(
    msg: &Message<'_>,
    raw: &[u8],
    ident: &str,
    depth: usize,
    env: &Env<'_>,
    out: &mut Extraction,
) {
    let mut found = Extraction::default();
    visit(msg, raw, 0, "1", depth, false, env, &mut Visited::default(), &mut found);
    let from = sender(msg);
    for s in &mut found.signatures {
        if s.mail_from.is_none() {
            s.mail_from = from.clone();
        }
    }
    out.absorb(ident, found);
}

fn content_type(part: &mail_parser::MessagePart<'_>) -> (String, String) {
    part.content_type()
        .map(|c| (c.ctype().to_ascii_lowercase(), c.subtype().unwrap_or("").to_ascii_lowercase()))
        .unwrap_or_else(|| ("text".into(), "plain".into()))
}

/// MIME parts nested deeper than this are hostile (and would exhaust the
/// stack of a worker thread).
const MAX_MIME_NESTING: usize = 100;

/// Parts of one message already visited: a malformed message can make
/// the parser list a part among its own descendants (found by fuzzing:
/// without this, a cycle fans out exponentially).
type Visited = std::collections::HashSet<u32>;

/// Visits part `id` (IMAP-style section `path`). `covered`: an enclosing
/// part is signed (the first part of a multipart/signed, the content of an
/// opaque signed-data), so what surrounds a signed part here is signed too.
#[allow(clippy::too_many_arguments)]
fn visit(
    msg: &Message<'_>,
    raw: &[u8],
    id: u32,
    path: &str,
    depth: usize,
    covered: bool,
    env: &Env<'_>,
    seen: &mut Visited,
    out: &mut Extraction,
) {
    // Over the unit's time or memory: stop; whoever began the unit says so.
    if !seen.insert(id) || crate::budget::over() {
        return;
    }
    let Some(part) = msg.part(id) else { return };
    if path.bytes().filter(|&b| b == b'.').count() >= MAX_MIME_NESTING {
        return out.problem(
            format!("part {path}"),
            Stage::Limit,
            format!("MIME parts nested more than {MAX_MIME_NESTING} deep: not read"),
        );
    }
    let (ctype, subtype) = content_type(part);
    let label = part.attachment_name().map(str::to_owned).unwrap_or_else(|| format!("part {path}"));
    // A signed part that is not the message itself, with no signed part
    // around it: a reader sees the unsigned parts beside it as the message.
    let nested = (!covered && path != "1").then_some(path);
    match &part.body {
        PartType::Multipart(children) => {
            let signed = ctype == "multipart" && subtype == "signed" && children.len() >= 2;
            if signed {
                let extra: Vec<String> =
                    (3..=children.len()).map(|i| format!("{path}.{i}")).collect();
                multipart_signed(
                    msg,
                    raw,
                    children[0],
                    children[1],
                    path,
                    nested,
                    &extra,
                    env,
                    out,
                );
                visit(msg, raw, children[0], &format!("{path}.1"), depth, true, env, seen, out);
            }
            // Of a signed multipart, the parts after the signature: signed by
            // nothing, but what they hold (an attachment, a signed file) is
            // still read.
            for (i, child) in children.iter().enumerate().skip(if signed { 2 } else { 0 }) {
                visit(
                    msg,
                    raw,
                    *child,
                    &format!("{path}.{}", i + 1),
                    depth,
                    covered,
                    env,
                    seen,
                    out,
                );
            }
        }
        PartType::Message(inner) => {
            if depth + 1 >= env.limits.max_depth {
                return out.problem(
                    &label,
                    Stage::Limit,
                    format!(
                        "forwarded messages nested more than {} deep: not opened",
                        env.limits.max_depth
                    ),
                );
            }
            let ident = join_member(&format!("forwarded {label}"), &identity(inner, None));
            walk_message(inner, raw, &ident, depth + 1, env, out);
        }
        PartType::Text(_) | PartType::Html(_) if part.attachment_name().is_none() => {}
        _ => {
            let bytes = part.contents();
            if !env.spend(bytes.len() as u64) {
                return out.problem(
                    &label,
                    Stage::Limit,
                    "decoded attachments exceed the unpacking limit for this file: not read",
                );
            }
            let is_smime = (subtype == "pkcs7-mime" || subtype == "x-pkcs7-mime")
                && is_smime_name(part.attachment_name());
            if is_smime {
                opaque(part, bytes, &label, nested, depth, env, out);
            } else if (subtype == "pkcs7-signature" || subtype == "x-pkcs7-signature")
                && is_smime_name(part.attachment_name())
            {
                // A detached S/MIME signature outside multipart/signed: the
                // signed part is not identified.
                smime_cms(
                    bytes,
                    "S/MIME signature",
                    Content::Missing(
                        "S/MIME signature outside multipart/signed: the signed part is unknown",
                    ),
                    out,
                );
            } else {
                out.absorb(
                    &label,
                    extract_bytes(bytes, part.attachment_name().unwrap_or(""), "", depth + 1, env),
                );
            }
        }
    }
}

/// `smime.p7m`/`smime.p7s` or unnamed parts are S/MIME structure; a named
/// `.p7m` attachment (an e-invoice, say) is a CMS file.
fn is_smime_name(name: Option<&str>) -> bool {
    name.is_none_or(|n| n.eq_ignore_ascii_case("smime.p7m") || n.eq_ignore_ascii_case("smime.p7s"))
}

/// multipart/signed: the signature covers the first part, header and body,
/// canonicalised to CRLF line ends as sent: the exact bytes a reader is
/// shown (RFC 1847, RFC 8551 3.5.3). `nested`: the part's path when it sits
/// under unsigned parts; `extra`: parts after the signature.
#[allow(clippy::too_many_arguments)]
fn multipart_signed(
    msg: &Message<'_>,
    raw: &[u8],
    content_id: u32,
    signature_id: u32,
    path: &str,
    nested: Option<&str>,
    extra: &[String],
    env: &Env<'_>,
    out: &mut Extraction,
) {
    let (Some(content), Some(sig)) = (msg.part(content_id), msg.part(signature_id)) else { return };
    let start = (content.raw_header_offset() as usize).min(raw.len());
    let end = (content.raw_end_offset() as usize).clamp(start, raw.len());
    let signed = crlf(&raw[start..end]);
    let blob = sig.contents();
    if !env.spend(blob.len() as u64) {
        return out.problem(
            format!("part {path}"),
            Stage::Limit,
            "decoded attachments exceed the unpacking limit for this file: not read",
        );
    }
    let member = format!("S/MIME signature (part {path})");
    let blob = unarmoured(blob);
    let sd = match SignedData::parse(&blob) {
        Ok(sd) => sd,
        Err(e) => {
            return out.problem(
                member,
                Stage::Cms,
                format!("S/MIME signature part is not a readable CMS signature: {e}"),
            );
        }
    };
    // A signature carrying its own content verifies that content (CMS
    // takes eContent over the detached bytes); when it is not the first
    // part, the signature says nothing about what a reader is shown.
    let confused = sd.econtent.as_ref().is_some_and(|c| !c.is_empty() && *crlf(c) != *signed);
    for mut s in from_signed_data(&sd, Format::Smime, &member, Content::Bytes(&[&signed])) {
        if confused {
            let e = crate::verdict::ContainerEvidence::SmimeEContentDiffers;
            if let Some((integrity, reason)) = crate::verdict::container_integrity(s.integrity, &e)
            {
                s.set_integrity(integrity, reason);
            }
            // A key found later must not turn the hidden content's verdict back on.
            s.key_check = None;
        }
        if !extra.is_empty() {
            s.note(Note::SmimeUnsignedParts(extra.to_vec()));
        }
        if let Some(path) = nested {
            s.note(Note::SmimeNestedSignedPart(path.to_owned()));
        }
        out.signatures.push(s);
    }
}

/// application/pkcs7-mime: signed-data carries its MIME entity inside;
/// enveloped-data cannot be read without the recipient's key.
fn opaque(
    part: &mail_parser::MessagePart<'_>,
    bytes: &[u8],
    label: &str,
    nested: Option<&str>,
    depth: usize,
    env: &Env<'_>,
    out: &mut Extraction,
) {
    let smime_type = part
        .content_type()
        .and_then(|c| c.attribute("smime-type"))
        .unwrap_or("")
        .to_ascii_lowercase();
    if smime_type.contains("enveloped") || smime_type.contains("authenveloped") {
        return out.problem(
            label,
            Stage::Mail,
            "S/MIME encrypted part (enveloped-data): its content and any signature inside cannot \
             be read without the recipient's key",
        );
    }
    let bytes = unarmoured(bytes);
    match SignedData::parse(&bytes) {
        Ok(sd) => opaque_signed_data(&sd, label, nested, depth, env, out),
        Err(crate::formats::cms::signed_data::CmsError::NotSignedData(oid))
            if oid.starts_with("1.2.840.113549.1.7.3") =>
        {
            out.problem(
                label,
                Stage::Mail,
                "S/MIME encrypted part (enveloped-data): its content and any signature inside \
                 cannot be read without the recipient's key",
            )
        }
        Err(e) => out.problem(
            label,
            Stage::Cms,
            format!("application/pkcs7-mime part is not a readable signed-data: {e}"),
        ),
    }
}

/// Old mailers (Netscape 3, 1996) sent S/MIME parts as base64 text without
/// a Content-Transfer-Encoding header: decode such a body ourselves.
fn unarmoured(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.first() == Some(&0x30) {
        return Cow::Borrowed(bytes);
    }
    let text: Vec<u8> =
        bytes.iter().copied().filter(|b| b.is_ascii_alphanumeric() || b"+/".contains(b)).collect();
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    match base64::Engine::decode(&lenient, &text[..text.len() / 4 * 4]) {
        Ok(d) if d.first() == Some(&0x30) => Cow::Owned(d),
        _ => Cow::Borrowed(bytes),
    }
}

/// Opaque signed-data: the signature, then what the signed MIME entity
/// holds. `nested`: the part's path when it sits under unsigned parts.
fn opaque_signed_data(
    sd: &SignedData<'_>,
    label: &str,
    nested: Option<&str>,
    depth: usize,
    env: &Env<'_>,
    out: &mut Extraction,
) {
    if sd.signer_infos.is_empty() {
        return; // certs-only (.p7c): no signature
    }
    let member = match nested {
        Some(path) => format!("S/MIME signature (opaque, part {path})"),
        None => "S/MIME signature (opaque)".to_owned(),
    };
    for mut s in from_signed_data(sd, Format::Smime, &member, Content::Bytes(&[])) {
        if let Some(path) = nested {
            s.note(Note::SmimeNestedSignedPart(path.to_owned()));
        }
        out.signatures.push(s);
    }
    if let Some(inner) = &sd.econtent
        && depth + 1 < env.limits.max_depth
    {
        match parse_mime(inner.as_ref()) {
            Some(entity) => {
                let mut found = Extraction::default();
                visit(
                    &entity,
                    entity.raw_message(),
                    0,
                    "1",
                    depth + 1,
                    true,
                    env,
                    &mut Visited::default(),
                    &mut found,
                );
                out.absorb("signed content", found);
            }
            None => out.problem(label, Stage::Mail, "signed content is not a MIME entity"),
        }
    }
}

fn smime_cms(blob: &[u8], member: &str, content: Content<'_>, out: &mut Extraction) {
    let blob = unarmoured(blob);
    match SignedData::parse(&blob) {
        Ok(sd) => out.signatures.extend(from_signed_data(&sd, Format::Smime, member, content)),
        Err(e) => out.problem(
            member,
            Stage::Cms,
            format!("S/MIME signature part is not a readable CMS signature: {e}"),
        ),
    }
}

/// Bare LF line ends to CRLF (the canonical form S/MIME signs); CRLF kept.
pub(crate) fn crlf(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !bytes.iter().enumerate().any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r')) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    Cow::Owned(out)
}

/// `From sender Www Mmm dd hh:mm:ss yyyy`: a separator even without the
/// blank line before it (writers that rely on Content-Length omit it).
fn is_separator_line(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    if text.trim_end() == "From -" {
        return true; // Netscape's separator without a date
    }
    let tokens: Vec<&str> = text.split_whitespace().collect();
    tokens.len() >= 5
        && tokens.iter().skip(2).any(|t| {
            let parts: Vec<&str> = t.split(':').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

enum MboxItem {
    Message {
        index: usize,
        bytes: Vec<u8>,
    },
    TooLarge {
        index: usize,
        size: usize,
    },
    /// A line longer than [`MAX_LINE`]: not a mail line; the message is not read.
    LineTooLong {
        index: usize,
        size: usize,
    },
    Error {
        index: usize,
        error: String,
    },
}

/// The longest mbox line kept in memory (RFC 5322 allows 998 bytes; real
/// mail has long base64 or HTML lines, never megabytes).
pub(crate) const MAX_LINE: usize = 8 << 20;

/// `read_until(b'\n')` that keeps at most `max` bytes of the line in `buf`
/// and skips the rest; returns the line's full length (0 at the end).
fn read_line_bounded(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(total);
        }
        let (chunk, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        total += used;
        reader.consume(used);
        if done {
            return Ok(total);
        }
    }
}

/// Splits an mbox stream at `From ` separator lines (a `From ` line after
/// an empty line, or the first line), undoing `>From ` quoting (mboxrd and
/// mboxo alike). A message over `max` bytes is skipped, not buffered.
struct MboxReader<R> {
    reader: R,
    index: usize,
    pending: Option<Vec<u8>>,
    done: bool,
    max: usize,
}

impl<R: BufRead> MboxReader<R> {
    fn new(reader: R, max: usize) -> Self {
        MboxReader { reader, index: 0, pending: None, done: false, max }
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = MboxItem;
    fn next(&mut self) -> Option<MboxItem> {
        if self.done {
            return None;
        }
        let mut message: Vec<u8> = Vec::new();
        let mut started = self.pending.take().is_some();
        let mut oversize = 0usize;
        let mut long_line = 0usize;
        let mut line = Vec::with_capacity(256);
        let mut prev_blank = true;
        loop {
            line.clear();
            match read_line_bounded(&mut self.reader, &mut line, MAX_LINE) {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(n) if n > MAX_LINE => {
                    if started {
                        long_line = long_line.max(n);
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    self.index += 1;
                    return Some(MboxItem::Error { index: self.index, error: e.to_string() });
                }
            }
            if line.starts_with(b"From ") && (prev_blank || is_separator_line(&line)) {
                if started {
                    self.pending = Some(Vec::new());
                    break;
                }
                started = true;
                prev_blank = false;
                continue;
            }
            prev_blank = line == b"\n" || line == b"\r\n";
            if !started {
                continue;
            }
            let unquoted: &[u8] = match line.iter().position(|&b| b != b'>') {
                Some(n) if n > 0 && line[n..].starts_with(b"From ") => &line[1..],
                _ => &line,
            };
            if oversize > 0 || message.len() + unquoted.len() > self.max {
                oversize += unquoted.len() + message.len();
                message = Vec::new();
                continue;
            }
            message.extend_from_slice(unquoted);
        }
        if !started {
            return None;
        }
        self.index += 1;
        if long_line > 0 {
            return Some(MboxItem::LineTooLong { index: self.index, size: long_line });
        }
        if oversize > 0 {
            return Some(MboxItem::TooLarge { index: self.index, size: oversize });
        }
        // The blank line before the next separator belongs to the mbox, not the message.
        if message.ends_with(b"\r\n\r\n") {
            message.truncate(message.len() - 2);
        } else if message.ends_with(b"\n\n") {
            message.truncate(message.len() - 1);
        }
        Some(MboxItem::Message { index: self.index, bytes: message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_messages_and_mailboxes() {
        assert!(looks_like_message(b"Return-Path: <a@b>\nFrom: a@b\nSubject: x\n\nbody"));
        assert!(looks_like_message(b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nx"));
        assert!(!looks_like_message(b"Note: this is a text file\nwith lines\n"));
        assert!(looks_like_mbox(
            b"From a@b Mon Jan  1 00:00:00 2024\nFrom: a@b\nDate: x\n\nbody\n"
        ));
        assert!(!looks_like_mbox(b"From here on, a story.\nOnce upon a time\n"));
    }

    #[test]
    fn splits_mbox_and_unquotes_from_lines() {
        let mbox = b"From a Mon Jan 1 00:00:00 2024\nSubject: one\n\n\
            >From the start\n>>From kept one level\n\n\
            From b Tue Jan 2 00:00:00 2024\nSubject: two\n\n\
            line\nFrom inside a paragraph\n";
        let items: Vec<_> = MboxReader::new(&mbox[..], 1 << 20).collect();
        let msgs: Vec<Vec<u8>> = items
            .into_iter()
            .map(|i| match i {
                MboxItem::Message { bytes, .. } => bytes,
                _ => panic!("not a message"),
            })
            .collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nFrom the start\n>From kept one level\n");
        assert_eq!(msgs[1], b"Subject: two\n\nline\nFrom inside a paragraph\n");
    }

    #[test]
    fn oversized_messages_are_skipped_not_buffered() {
        let mut mbox = b"From a Mon Jan 1 00:00:00 2024\nSubject: big\n\n".to_vec();
        mbox.extend(std::iter::repeat_n(b'x', 5000));
        mbox.extend_from_slice(b"\n\nFrom b Tue\nSubject: small\n\nok\n");
        let items: Vec<_> = MboxReader::new(&mbox[..], 1000).collect();
        assert!(matches!(items[0], MboxItem::TooLarge { index: 1, .. }));
        assert!(
            matches!(&items[1], MboxItem::Message { index: 2, bytes } if bytes.ends_with(b"ok\n"))
        );
    }

    #[test]
    fn folded_parameters_are_joined_in_the_header_only() {
        let m = b"Content-Type: multipart/signed; boundary=\n \"--x y--\"\n\nbody=\n \"kept\"";
        assert_eq!(
            &*unfold_parameters(m),
            b"Content-Type: multipart/signed; boundary=\"--x y--\"\n\nbody=\n \"kept\""
        );
        assert!(matches!(unfold_parameters(b"A: b=c\n\nx"), Cow::Borrowed(_)));
    }

    #[test]
    fn deeply_nested_parts_stop_with_an_error_not_a_crash() {
        let mut m = String::from(
            "From: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n",
        );
        for i in 1..50_000 {
            m.push_str(&format!(
                "--b{}\nContent-Type: multipart/mixed; boundary=\"b{}\"\n\n",
                i - 1,
                i
            ));
        }
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20) // a rayon worker's stack
            .spawn(move || {
                let env = Env::new(super::super::Limits::default(), None);
                extract_message(m.as_bytes(), 0, &env).problems.len()
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), 1);
    }

    /// A multipart/signed inside the signed first part of another: what
    /// surrounds it is signed by the outer signature, so no "unsigned" note;
    /// the same part under multipart/mixed alone gets one.
    #[test]
    fn a_signed_part_inside_signed_content_is_not_called_nested() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smime-attacks");
        let control = std::fs::read(dir.join("control-detached.eml")).unwrap();
        let at = control.windows(19).position(|w| w == b"MIME-Version: 1.0\r\n").unwrap() + 19;
        let inner = &control[at..];
        // The signature part, up to the CRLF before the closing delimiter.
        let start =
            memchr::memmem::rfind(inner, b"Content-Type: application/x-pkcs7-signature").unwrap();
        let end = memchr::memmem::rfind(inner, b"\r\n------").unwrap();
        let sig_part = &inner[start..end];
        let mixed_head: &[u8] = b"Content-Type: multipart/mixed; boundary=\"mx\"\r\n\r\n\
            --mx\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--mx\r\n";
        let mixed = [mixed_head, inner, b"\r\n--mx--"].concat();
        let outer_head: &[u8] = b"From: a@b.vn\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; \
            boundary=\"os\"\r\n\r\n--os\r\n";
        let outer = [outer_head, &mixed, b"\r\n--os\r\n", sig_part, b"\r\n--os--\r\n"].concat();
        let plain = [&b"From: a@b.vn\r\nMIME-Version: 1.0\r\n"[..], &mixed].concat();
        let env = Env::new(super::super::Limits::default(), None);
        let nested_notes = |message: &[u8]| -> Vec<(String, bool)> {
            extract_message(message, 0, &env)
                .signatures
                .iter()
                .map(|s| {
                    (
                        s.member.clone(),
                        s.notes.iter().any(|n| matches!(n, Note::SmimeNestedSignedPart(_))),
                    )
                })
                .collect()
        };
        let under_mixed = nested_notes(&plain);
        assert_eq!(under_mixed.len(), 1, "{under_mixed:?}");
        assert!(under_mixed[0].1, "{under_mixed:?}");
        let under_signed = nested_notes(&outer);
        assert_eq!(under_signed.len(), 2, "the outer and the inner signature: {under_signed:?}");
        assert!(under_signed.iter().all(|(_, nested)| !nested), "{under_signed:?}");
    }

    #[test]
    fn crlf_canonicalisation() {
        assert_eq!(&*crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(matches!(crlf(b"a\r\nb"), Cow::Borrowed(_)));
    }
}
