//! CMS SignedData (RFC 5652), read leniently from BER or DER.
//!
//! Only the parts an audit needs are modelled; every element keeps its
//! original bytes so that later verification hashes exactly what was signed.

use std::borrow::Cow;

use crate::asn1::ber::{BerError, Tlv, oid_string, tag};
use crate::asn1::oids;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmsError {
    #[error("not BER/DER: {0}")]
    Encoding(#[from] BerError),
    #[error("content type is {0}, not signed-data")]
    NotSignedData(String),
}

#[derive(Debug, Clone)]
pub struct SignedData<'a> {
    /// Bytes taken by the ContentInfo; anything after it was padding.
    pub consumed: usize,
    pub econtent_type: String,
    /// Encapsulated content (attached signature), segments joined.
    pub econtent: Option<Cow<'a, [u8]>>,
    /// Embedded certificates, each as DER (BER ones normalised).
    pub certificates: Vec<Cow<'a, [u8]>>,
    /// Embedded CRLs (the `crls` set's CertificateLists), each as DER.
    pub crls: Vec<Cow<'a, [u8]>>,
    /// OCSP responses in the `crls` set (`other`, id-ri-ocsp-response), as DER.
    pub ocsp: Vec<Vec<u8>>,
    pub signer_infos: Vec<SignerInfo<'a>>,
}

#[derive(Debug, Clone)]
pub enum SignerId<'a> {
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    KeyId(&'a [u8]),
}

#[derive(Debug, Clone)]
pub struct SignerInfo<'a> {
    pub sid: SignerId<'a>,
    pub digest_algorithm: String,
    /// The `[0] IMPLICIT` signed attributes element as written.
    pub signed_attrs: Option<Tlv<'a>>,
    pub signature_algorithm: String,
    pub signature_algorithm_params: Option<&'a [u8]>,
    pub signature: Cow<'a, [u8]>,
    pub unsigned_attrs: Option<Tlv<'a>>,
}

impl<'a> SignedData<'a> {
    /// Parses a ContentInfo holding SignedData from the start of `input`.
    pub fn parse(input: &'a [u8]) -> Result<SignedData<'a>, CmsError> {
        let ci = Tlv::parse(input)?.expect(tag::SEQUENCE, "ContentInfo SEQUENCE")?;
        let mut parts = ci.children();
        let content_type = parts.need("contentType")?.expect(tag::OID, "contentType OID")?;
        if !oids::is(content_type.body, &oids::SIGNED_DATA) {
            return Err(CmsError::NotSignedData(oid_string(content_type.body)));
        }
        let explicit = parts.need("content")?.expect(tag::context(0), "[0] content")?;
        let sd =
            explicit.children().need("SignedData")?.expect(tag::SEQUENCE, "SignedData SEQUENCE")?;
        let mut f = sd.children();
        f.need("version")?.expect(tag::INTEGER, "version INTEGER")?;
        f.need("digestAlgorithms")?.expect(tag::SET, "digestAlgorithms SET")?;
        let encap =
            f.need("encapContentInfo")?.expect(tag::SEQUENCE, "encapContentInfo SEQUENCE")?;
        let mut e = encap.children();
        let econtent_type =
            oid_string(e.need("eContentType")?.expect(tag::OID, "eContentType OID")?.body);
        let econtent = match e.optional(tag::context(0))? {
            Some(wrapper) => match wrapper.children().next() {
                Some(octets) => Some(octets?.string_bytes()?),
                None => None,
            },
            None => None,
        };
        let mut certificates = Vec::new();
        if let Some(set) = f.optional(tag::context(0))? {
            for choice in set.children() {
                let choice = choice?;
                // Only X.509 certificates; attribute certificates are skipped.
                if choice.tag == tag::SEQUENCE {
                    certificates.push(if choice.indefinite {
                        Cow::Owned(choice.to_der()?)
                    } else {
                        Cow::Borrowed(choice.raw)
                    });
                }
            }
        }
        let (mut crls, mut ocsp) = (Vec::new(), Vec::new());
        if let Some(set) = f.optional(tag::context(1))? {
            for choice in set.children() {
                let choice = choice?;
                if choice.tag == tag::SEQUENCE {
                    crls.push(if choice.indefinite {
                        Cow::Owned(choice.to_der()?)
                    } else {
                        Cow::Borrowed(choice.raw)
                    });
                } else if choice.tag == tag::context(1) {
                    // OtherRevocationInfoFormat: an OCSP response (RFC 5940); other formats are
                    // skipped.
                    let mut other = choice.children();
                    if other
                        .next()
                        .and_then(Result::ok)
                        .is_some_and(|o| oids::is(o.body, &oids::RI_OCSP_RESPONSE))
                        && let Some(Ok(response)) = other.next()
                    {
                        ocsp.push(response.to_der()?);
                    }
                }
            }
        }
        let infos = f.need("signerInfos")?.expect(tag::SET, "signerInfos SET")?;
        let mut signer_infos = Vec::new();
        for si in infos.children() {
            signer_infos.push(SignerInfo::parse(si?)?);
        }
        Ok(SignedData {
            consumed: ci.raw.len(),
            econtent_type,
            econtent,
            certificates,
            crls,
            ocsp,
            signer_infos,
        })
    }

    pub fn is_timestamp_token(&self) -> bool {
        self.econtent_type == oids::TST_INFO.to_string()
    }
}

impl<'a> SignerInfo<'a> {
    fn parse(si: Tlv<'a>) -> Result<SignerInfo<'a>, CmsError> {
        let si = si.expect(tag::SEQUENCE, "SignerInfo SEQUENCE")?;
        let mut f = si.children();
        f.need("version")?.expect(tag::INTEGER, "SignerInfo version")?;
        let sid_tlv = f.need("sid")?;
        let sid = match sid_tlv.tag {
            tag::SEQUENCE => {
                let mut p = sid_tlv.children();
                let issuer = p.need("issuer")?.expect(tag::SEQUENCE, "issuer Name")?.raw;
                let serial = p.need("serialNumber")?.expect(tag::INTEGER, "serialNumber")?.body;
                SignerId::IssuerSerial { issuer, serial }
            }
            t if t == tag::context_primitive(0) => SignerId::KeyId(sid_tlv.body),
            t if t == tag::context(0) => {
                SignerId::KeyId(sid_tlv.string_bytes().map(|c| leak_or_borrow(c, sid_tlv.body))?)
            }
            found => {
                return Err(
                    BerError::UnexpectedTag { expected: "sid", found, at: sid_tlv.offset }.into()
                );
            }
        };
        let (digest_algorithm, _) = algorithm(f.need("digestAlgorithm")?)?;
        let signed_attrs = f.optional(tag::context(0))?;
        let (signature_algorithm, signature_algorithm_params) =
            algorithm(f.need("signatureAlgorithm")?)?;
        let signature = f.need("signature")?.string_bytes()?;
        let unsigned_attrs = f.optional(tag::context(1))?;
        Ok(SignerInfo {
            sid,
            digest_algorithm,
            signed_attrs,
            signature_algorithm,
            signature_algorithm_params,
            signature,
            unsigned_attrs,
        })
    }

    /// Values of a signed attribute.
    /// CRLs in Adobe's revocationInfoArchival signed attribute:
    /// `SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CertificateList, ocsp [1] ..., other [2] ... }`.
    pub fn archived_crls(&self) -> Vec<Vec<u8>> {
        self.archived(0)
    }

    /// OCSP responses in the same attribute (`[1]`).
    pub fn archived_ocsp(&self) -> Vec<Vec<u8>> {
        self.archived(1)
    }

    fn archived(&self, field: u8) -> Vec<Vec<u8>> {
        let mut found = Vec::new();
        for value in self.signed_attr(&oids::ADBE_REVOCATION_INFO_ARCHIVAL) {
            for wrapper in value.children().flatten().filter(|f| f.tag == tag::context(field)) {
                for list in wrapper.children().flatten() {
                    found.extend(
                        list.children()
                            .flatten()
                            .filter(|c| c.tag == tag::SEQUENCE)
                            .filter_map(|c| c.to_der().ok()),
                    );
                }
            }
        }
        found
    }

    pub fn signed_attr(&self, oid: &der::asn1::ObjectIdentifier) -> Vec<Tlv<'a>> {
        attr_values(self.signed_attrs, oid)
    }

    pub fn unsigned_attr(&self, oid: &der::asn1::ObjectIdentifier) -> Vec<Tlv<'a>> {
        attr_values(self.unsigned_attrs, oid)
    }

    /// The signing-time attribute (claimed by the signer).
    pub fn signing_time(&self) -> Option<OffsetDateTime> {
        self.signed_attr(&oids::SIGNING_TIME).first().and_then(parse_time)
    }

    /// genTime of an RFC 3161 signature timestamp token in the unsigned
    /// attributes, when present (not verified here).
    pub fn timestamp_time(&self) -> Option<OffsetDateTime> {
        let token = self.unsigned_attr(&oids::SIGNATURE_TIMESTAMP).into_iter().next()?;
        let sd = SignedData::parse(token.raw).ok()?;
        tst_gen_time(&sd)
    }

    pub fn countersignature_count(&self) -> usize {
        self.unsigned_attr(&oids::COUNTER_SIGNATURE).len()
    }
}

/// A constructed `[0]` key identifier is vanishingly rare; rather than carry an
/// owned buffer through the model we fall back to the raw body.
fn leak_or_borrow<'a>(joined: Cow<'a, [u8]>, raw_body: &'a [u8]) -> &'a [u8] {
    match joined {
        Cow::Borrowed(b) => b,
        Cow::Owned(_) => raw_body,
    }
}

/// genTime from a timestamp token (SignedData over TSTInfo).
pub(crate) fn tst_gen_time(sd: &SignedData<'_>) -> Option<OffsetDateTime> {
    let content = sd.econtent.as_ref()?;
    let info = Tlv::parse(content).ok()?;
    // TSTInfo: version, policy, messageImprint, serialNumber, genTime, ...
    let gen_time =
        info.children().filter_map(Result::ok).find(|t| t.tag == tag::GENERALIZED_TIME)?;
    parse_time(&gen_time)
}

fn algorithm(t: Tlv<'_>) -> Result<(String, Option<&[u8]>), CmsError> {
    let t = t.expect(tag::SEQUENCE, "AlgorithmIdentifier")?;
    let mut p = t.children();
    let oid = oid_string(p.need("algorithm")?.expect(tag::OID, "algorithm OID")?.body);
    let params = p.next().transpose()?.map(|x| x.raw);
    Ok((oid, params))
}

fn attr_values<'a>(attrs: Option<Tlv<'a>>, oid: &der::asn1::ObjectIdentifier) -> Vec<Tlv<'a>> {
    let Some(attrs) = attrs else { return Vec::new() };
    for attr in attrs.children().filter_map(Result::ok) {
        let mut p = attr.children();
        let Some(Ok(t)) = p.next() else { continue };
        if t.tag == tag::OID
            && oids::is(t.body, oid)
            && let Some(Ok(values)) = p.next()
        {
            return values.children().filter_map(Result::ok).collect();
        }
    }
    Vec::new()
}

/// UTCTime or GeneralizedTime (with optional fractional seconds / offset).
pub(crate) fn parse_time(t: &Tlv<'_>) -> Option<OffsetDateTime> {
    let s = std::str::from_utf8(t.body).ok()?;
    let (digits, four_digit_year) = match t.tag {
        tag::UTC_TIME => (s, false),
        tag::GENERALIZED_TIME => (s, true),
        _ => return None,
    };
    parse_asn1_time(digits, four_digit_year)
}

fn parse_asn1_time(s: &str, four_digit_year: bool) -> Option<OffsetDateTime> {
    // Only ASCII digits and a few signs belong here; anything else (a
    // hostile `+1é2`) is not a time, and byte slicing below stays safe.
    if !s.is_ascii() {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    let (year, rest) = if four_digit_year {
        (digits(0..4)? as i32, 4)
    } else {
        let y = digits(0..2)? as i32;
        (if y >= 50 { 1900 + y } else { 2000 + y }, 2)
    };
    let month = digits(rest..rest + 2)? as u8;
    let day = digits(rest + 2..rest + 4)? as u8;
    let hour = digits(rest + 4..rest + 6)? as u8;
    let minute = digits(rest + 6..rest + 8)? as u8;
    let mut idx = rest + 8;
    let second = match digits(idx..idx + 2) {
        Some(v) => {
            idx += 2;
            v as u8
        }
        None => 0,
    };
    let mut nanos = 0u32;
    let tail = s.get(idx..)?;
    if tail.starts_with(['.', ',']) {
        let frac: String = tail[1..].chars().take_while(|c| c.is_ascii_digit()).collect();
        idx += 1 + frac.len();
        let padded = format!("{frac:0<9}");
        nanos = padded[..9].parse().ok()?;
    }
    let offset = match s.get(idx..)? {
        "Z" | "" => time::UtcOffset::UTC,
        tz if tz.len() == 5 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let h = digits(idx + 1..idx + 3)? as i8;
            let m = digits(idx + 3..idx + 5)? as i8;
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
        _ => return None,
    };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let t = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t).assume_offset(offset).to_offset(time::UtcOffset::UTC),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asn1_times() {
        let t = parse_asn1_time("250102030405Z", false).unwrap();
        assert_eq!(t.to_string(), "2025-01-02 3:04:05.0 +00:00:00");
        let g = parse_asn1_time("20240615123000.5+0700", true).unwrap();
        assert_eq!((g.hour(), g.minute(), g.nanosecond()), (5, 30, 500_000_000));
        assert!(parse_asn1_time("2024", true).is_none());
        assert!(parse_asn1_time("20241315000000Z", true).is_none());
    }

    /// `t` written as a UTCTime: YYMMDDHHMMSSZ.
    fn utc_time_text(t: OffsetDateTime) -> String {
        let (year, month, day) = (t.year() % 100, t.month() as u8, t.day());
        let (hour, minute, second) = (t.hour(), t.minute(), t.second());
        format!("{year:02}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z")
    }

    /// `local` written as a GeneralizedTime with milliseconds and its
    /// offset of `offset_minutes`.
    fn generalized_time_text(local: OffsetDateTime, millis: u32, offset_minutes: i32) -> String {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}.{millis:03}{sign}{:02}{:02}",
            local.year(),
            local.month() as u8,
            local.day(),
            local.hour(),
            local.minute(),
            local.second(),
            offset_minutes.abs() / 60,
            offset_minutes.abs() % 60
        )
    }

    proptest::proptest! {
        /// Whatever the bytes, the time parser answers, never panics.
        #[test]
        fn any_text_is_a_time_or_none(
            text in proptest::prelude::any::<String>(),
            four_digit_year in proptest::prelude::any::<bool>()
        ) {
            let _ = parse_asn1_time(&text, four_digit_year);
        }

        /// A UTCTime written for any second of 1950..2049 reads back as that second.
        #[test]
        fn utc_times_round_trip(secs in -631_152_000i64..2_524_608_000) {
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let text = utc_time_text(t);
            proptest::prop_assert_eq!(parse_asn1_time(&text, false), Some(t));
        }

        /// A GeneralizedTime with milliseconds and an offset reads back as the same instant.
        #[test]
        fn generalized_times_round_trip(
            secs in 0i64..4_102_444_800,
            millis in 0u32..1000,
            offset_minutes in -720i32..=840
        ) {
            let utc = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let utc = utc.replace_millisecond(millis as u16).unwrap();
            let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let text = generalized_time_text(utc.to_offset(offset), millis, offset_minutes);
            proptest::prop_assert_eq!(parse_asn1_time(&text, true), Some(utc));
        }
    }

    #[test]
    fn hostile_times_are_rejected_without_panicking() {
        for bad in [
            "250102030405+1é2",
            "2501020304é",
            "25010203040é",
            "+1+2+3+4+5Z",
            "250102030405+1234567",
            "é",
            "250102030405.é",
            "2501020304-0-10",
        ] {
            assert!(parse_asn1_time(bad, false).is_none(), "{bad}");
            assert!(parse_asn1_time(bad, true).is_none(), "{bad}");
        }
    }

    #[test]
    fn rejects_non_signed_data() {
        // ContentInfo { id-data, [0] { OCTET STRING "x" } }
        let mut data = vec![0x30, 0x10, 0x06, 0x09];
        // id-data, 1.2.840.113549.1.7.1
        data.extend(der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1").as_bytes());
        data.extend([0xa0, 0x03, 0x04, 0x01, b'x']);
        assert!(matches!(SignedData::parse(&data), Err(CmsError::NotSignedData(_))));
    }
}
