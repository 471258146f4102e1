#!/usr/bin/env python3
"""Regenerate the certificate pins of rules/ca.toml from ../shared/ca-certs/INDEX.md
and the facts collected beside this script (issue 23):

  ca-found.jsonl       CA certificates found in public sources, each checked by
                       its signature up to a pinned root (openssl verify), with
                       where it was found; "rejected" ones are never pinned
  ca-urls.jsonl        official download URLs of pinned certificates, with where
                       each was seen (certificates' AIA caIssuers, pages);
                       "low" confidence ones are not used
  ca-other-urls.jsonl  URLs that real signer certificates name (AIA) for issuing
                       keys the catalogue does not pin: `rules fetch-anchors`
                       keeps what it downloads there only if it verifies up to
                       a pinned certificate

Only facts are copied (DNs, SHA-256, SKI/AKI, validity, URLs): never the
certificates themselves. CA grouping, names and DN fallback patterns live in
the table below; edit there, then run:

    python3 scripts/gen-ca-catalogue.py ../shared/ca-certs/INDEX.md > rules/ca.toml
"""
import json
import pathlib
import re
import sys
from datetime import datetime

# file-name prefix -> CA id (longest prefix wins)
GROUPS = {
    "Co-quan-chung-thuc-so-chuyen-dung-Chinh-phu-RootCA": "vgca-g1-root",
    "Co-quan-chung-thuc-so-Chinh-phu": "vgca-g1-chinh-phu",
    "Co-quan-chung-thuc-so-Bo-Tai-chinh": "vgca-g1-bo-tai-chinh",
    "Co-quan-chung-thuc-so-Bo-Cong-an": "vgca-g1-bo-cong-an",
    "Co-quan-chung-thuc-so-Dang-Cong-san": "vgca-g1-dang-cong-san",
    "Co-quan-chung-thuc-so-Bo-Ngoai-giao": "vgca-g1-bo-ngoai-giao",
    "RootCA-chuyen-dung-Chinh-phu-G2": "vgca-g2-root",
    "CA-phuc-vu-cac-co-quan-Nha-nuoc-G2": "vgca-g2-nha-nuoc",
    "CA-phuc-vu-cac-co-quan-Dang-G2": "vgca-g2-dang",
    "MIC-National-Root-CA": "neac-mic-root",
    "Vietnam-National-Root-CA": "neac-root",
    "Vietnam-National-Root-CA-G3": "neac-root-g3",
    "VIETNAM-NATIONAL-ROOT-CA-": "neac-root-2025",
    "VIETNAM-NATIONAL-CA-": "neac-ca",
    "BkavCA": "bkav-ca", "CA2": "ca2", "Time-Stamp-CA2": "ca2", "CMC-CA": "cmc-ca", "E-CA": "e-ca",
    "EASYCA": "easyca", "EFY-CA": "efy-ca", "FPT-": "fpt-ca", "FastCA": "fastca", "HILO-CA": "hilo-ca",
    "I-CA": "i-ca", "Intrust": "intrust-ca", "MATBAO-CA": "matbao-ca", "MISA-CA": "misa-ca", "MK-CA": "mk-ca",
    "MOBIFONE-CA": "mobifone-ca", "NC-CA": "nc-ca", "NEWTEL-CA": "newtel-ca", "ONE-CA": "one-ca",
    "SAFE-CA": "safe-ca", "SAVIS-TrustCA": "trustca", "TrustCA": "trustca", "SmartSign": "smartsign",
    "VNPAY-CA": "vnpay-ca", "VNPT-": "vnpt-ca", "Viettel-CA": "viettel-ca", "WINCA": "winca",
}
HERE = pathlib.Path(__file__).resolve().parent

G = "government"
C = "commercial"
VGCA = "Ban Cơ yếu Chính phủ (Cục Chứng thực số và Bảo mật thông tin)"
NEAC = "Trung tâm Chứng thực điện tử quốc gia (NEAC)"
# id -> (name, class, operator, website, issuer_patterns, note)
CAS = {
    "vgca-g1-root": ("Government Root CA G1 (Co quan chung thuc so chuyen dung Chinh phu)", G, VGCA, "https://ca.gov.vn", [], "G1 root, expires 2030-03-05"),
    "vgca-g1-chinh-phu": ("Co quan chung thuc so Chinh phu (G1)", G, VGCA, "https://ca.gov.vn", [], "issuer of most G1 signer certificates (cp.crt)"),
    "vgca-g1-bo-tai-chinh": ("Co quan chung thuc so Bo Tai chinh (G1)", G, VGCA, "https://ca.gov.vn", [], ""),
    "vgca-g1-bo-cong-an": ("Co quan chung thuc so Bo Cong an (G1)", G, VGCA, "https://ca.gov.vn", [], ""),
    "vgca-g1-dang-cong-san": ("Co quan chung thuc so Dang Cong san (G1)", G, VGCA, "https://ca.gov.vn", [], ""),
    "vgca-g1-bo-ngoai-giao": ("Cơ quan chứng thực số Bộ Ngoại giao (G1)", G, VGCA, "https://ca.gov.vn", [], ""),
    "vgca-g2-root": ("RootCA chuyên dùng Chính phủ G2", G, VGCA, "https://ca.gov.vn", [], "G2 root, 2018-2048"),
    "vgca-g2-nha-nuoc": ("CA phục vụ các cơ quan Nhà nước G2", G, VGCA, "https://ca.gov.vn", [], ""),
    "vgca-g2-dang": ("CA phục vụ các cơ quan Đảng G2", G, VGCA, "https://ca.dcs.vn", [], ""),
    "neac-mic-root": ("MIC National Root CA", C, NEAC, "https://rootca.gov.vn", [], "root of the 2009-2020 public CAs"),
    "neac-root": ("Vietnam National Root CA", C, NEAC, "https://rootca.gov.vn", [], "root of the current public (commercial) CAs"),
    "neac-root-g3": ("Vietnam National Root CA G3", C, NEAC, "https://rootca.gov.vn", [], ""),
    "neac-root-2025": ("Vietnam National Root CA (2025 roots: RS, TSA, USBTOKEN, MOBILEPKI, EMA)", C, NEAC, "https://rootca.gov.vn", [], ""),
    "neac-ca": ("Vietnam National CA (NEAC-operated ERD, LTA)", C, NEAC, "https://rootca.gov.vn", [], "public PKI operated by NEAC, not the Government specialized CA"),
}
COMMERCIAL = {
    "bkav-ca": ("BKAV-CA", ["CN=BkavCA*"]),
    "ca2": ("CA2 (Nacencomm)", ["CN=CA2*", "O=NACENCOMM*"]),
    "cmc-ca": ("CMC-CA", ["CN=CMC-CA*"]),
    "e-ca": ("E-CA (ThaiSonSoft)", ["CN=E-CA*"]),
    "easyca": ("EASYCA (SoftDreams)", ["CN=EASYCA*"]),
    "efy-ca": ("EFY-CA", ["CN=EFY-CA*"]),
    "fpt-ca": ("FPT-CA", ["CN=FPT Certification Authority*", "CN=FPT-CA*"]),
    "fastca": ("FastCA", ["CN=FastCA*"]),
    "hilo-ca": ("HILO-CA", ["CN=HILO-CA*"]),
    "i-ca": ("I-CA", ["CN=I-CA*"]),
    "intrust-ca": ("IntrustCA", ["CN=IntrustCA*", "CN=Intrust*"]),
    "matbao-ca": ("MATBAO-CA", ["CN=MATBAO-CA*"]),
    "misa-ca": ("MISA-CA", ["CN=MISA-CA*"]),
    "mk-ca": ("MK CA", ["CN=MK CA*"]),
    "mobifone-ca": ("MOBIFONE CA", ["CN=MOBIFONE*CA*"]),
    "nc-ca": ("NC-CA", ["CN=NC-CA*"]),
    "newtel-ca": ("NEWTEL-CA", ["CN=NEWTEL-CA*"]),
    "one-ca": ("ONE-CA (VISNAM)", ["CN=ONE-CA*"]),
    "safe-ca": ("SAFE-CA", ["CN=SAFE-CA*"]),
    "trustca": ("TrustCA (SAVIS)", ["CN=TrustCA*", "CN=SAVIS TrustCA*"]),
    "smartsign": ("SmartSign (VINA)", ["CN=SmartSign*"]),
    "vnpay-ca": ("VNPAY-CA", ["CN=VNPAY-CA*"]),
    "vnpt-ca": ("VNPT-CA", ["CN=VNPT-CA*", "CN=VNPT Certification Authority*", "CN=VNPT SmartCA*"]),
    "viettel-ca": ("Viettel-CA", ["CN=Viettel-CA*"]),
    "winca": ("WINCA", ["CN=WINCA*"]),
    # Licensed public CA (lcs.com.vn) seen issuing real e-invoice signers
    # (scripts/real-docs/manifest.jsonl); no certificate of it found yet.
    "lcs-ca": ("LCS-CA (L.C.S)", ["CN=LCS-CA*"]),
}
# Operators of CAs with no pinned certificate to read them from.
OPERATORS = {"lcs-ca": "L.C.S CO.LTD"}
# AIA caIssuers URLs seen inside certificates issued by these CAs (verified);
# CAs without one have no download URL rather than a guessed one.
DOWNLOAD = {
    "vgca-g1-chinh-phu": "http://ca.gov.vn/pki/pub/cert/cp.crt",
    "vgca-g2-root": "http://ca.gov.vn/pki/pub/crt/rootcag2.crt",
    "neac-mic-root": "http://public.rootca.gov.vn/crt/micnrca.crt",
    "Vietnam National Root CA": "https://rootca.gov.vn/crt/vnrca256.p7b",
    "VIETNAM NATIONAL ROOT CA - EMA": "https://rootca.gov.vn/crt/vnrca-ema.p7b",
    "VIETNAM NATIONAL ROOT CA - MOBILEPKI": "https://rootca.gov.vn/crt/vnrca-mobilepki.p7b",
    "VIETNAM NATIONAL ROOT CA - RS": "https://rootca.gov.vn/crt/vnrca-rs.p7b",
    "VIETNAM NATIONAL ROOT CA - TSA": "https://rootca.gov.vn/crt/vnrca-tsa.p7b",
    "VIETNAM NATIONAL ROOT CA - USBTOKEN": "https://rootca.gov.vn/crt/vnrca-usbtoken.p7b",
}


def group_of(fname):
    best = None
    for prefix, gid in GROUPS.items():
        if fname.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, gid)
    return best[1] if best else None


def rfc3339(openssl_date):
    if re.match(r"\d{4}-\d\d-\d\dT", openssl_date):
        return openssl_date
    return datetime.strptime(" ".join(openssl_date.split()), "%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_index(text):
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        path = block.split("`")[1]
        if path.startswith("leaf-examples/"):
            continue
        f = {}
        for key, rx in {
            "sha256": r"sha256 Fingerprint=([0-9A-F:]+)",
            "subject": r"^subject=(.*)$",
            "issuer": r"^issuer=(.*)$",
            "not_before": r"^notBefore=(.*)$",
            "not_after": r"^notAfter=(.*)$",
            "ski": r"Subject Key Identifier: \n\s+([0-9A-F:]+)",
            "aki": r"Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)",
            "key": r"^key=([^;]+);",
        }.items():
            m = re.search(rx, block, flags=re.M)
            f[key] = m.group(1).strip() if m else None
        f["path"] = path
        f["tsa"] = "Timestamping" in path or "Time-Stamp" in path or "TSA" in path or "Time-Stamping" in path
        yield f


def found_certs():
    """ca-found.jsonl: the certificates found and verified (rejected ones left out)."""
    for line in open(HERE / "ca-found.jsonl", encoding="utf-8"):
        d = json.loads(line)
        if d.get("rejected"):
            continue
        yield d["ca_id"], {
            "sha256": d["sha256"], "subject": d["subject"], "issuer": d["issuer"], "ski": d.get("ski"), "aki": d.get("aki"),
            "not_before": d["not_before"], "not_after": d["not_after"], "path": None, "source": d["source"],
            "tsa": d.get("role") == "tsa", "download": d.get("download"),
        }


def urls():
    """ca-urls.jsonl: SHA-256 -> the first trusted download URL."""
    out = {}
    for line in open(HERE / "ca-urls.jsonl", encoding="utf-8"):
        d = json.loads(line)
        if not d.get("confidence", "").startswith("low"):
            out.setdefault(d["sha256"], d["download"])
    return out


def other_urls():
    """ca-other-urls.jsonl: CA id -> URLs of its keys the catalogue does not pin."""
    out = {}
    for line in open(HERE / "ca-other-urls.jsonl", encoding="utf-8"):
        d = json.loads(line)
        if d["download"] not in out.setdefault(d["ca_id"], []):
            out[d["ca_id"]].append(d["download"])
    return out


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    certs = list(parse_index(open(sys.argv[1], encoding="utf-8").read()))
    by_group = {}
    for c in certs:
        by_group.setdefault(group_of(c["path"].split("/")[1]), []).append(c)
    for gid, c in found_certs():
        by_group.setdefault(gid, []).append(c)
    trusted_urls = urls()
    unpinned_urls = other_urls()
    for gid, (name, pats) in COMMERCIAL.items():
        ops = sorted({re.search(r"O=([^,]+)", c["subject"]).group(1).strip() for c in by_group.get(gid, []) if "O=" in c["subject"]})
        operator = " / ".join(ops) or OPERATORS.get(gid, "")
        CAS[gid] = (name, C, operator, "https://rootca.gov.vn", pats, "licensed public CA under a NEAC root")
    print(open(sys.argv[0].replace("gen-ca-catalogue.py", "ca-catalogue-header.toml"), encoding="utf-8").read(), end="")
    for gid, (name, klass, operator, website, pats, note) in CAS.items():
        print(f"\n[[ca]]\nid = {q(gid)}\nname = {q(name)}\nclass = {q(klass)}\noperator = {q(operator)}\nwebsite = {q(website)}")
        if note:
            print(f"note = {q(note)}")
        if pats:
            print("issuer_patterns = [" + ", ".join(q(p) for p in pats) + "]")
        if unpinned_urls.get(gid):
            print("other_downloads = [" + ", ".join(q(u) for u in unpinned_urls[gid]) + "]")
        for c in sorted(by_group.get(gid, []), key=lambda c: c["not_before"] and rfc3339(c["not_before"])):
            cn = re.search(r"CN=([^,]+)", c["subject"]).group(1).strip()
            url = DOWNLOAD.get(gid) if gid.startswith("vgca") or gid == "neac-mic-root" else DOWNLOAD.get(cn)
            url = url or trusted_urls.get(c["sha256"].replace(":", "").lower()) or c.get("download")
            print("\n  [[ca.cert]]")
            print(f"  subject = {q(c['subject'])}")
            print(f"  issuer = {q(c['issuer'])}")
            print(f"  sha256 = {q(c['sha256'].replace(':', '').lower())}")
            if c["ski"]:
                print(f"  ski = {q(c['ski'].replace(':', ''))}")
            if c["aki"]:
                print(f"  aki = {q(c['aki'].replace(':', ''))}")
            print(f"  not_before = {q(rfc3339(c['not_before']))}")
            print(f"  not_after = {q(rfc3339(c['not_after']))}")
            if c["tsa"]:
                print('  role = "tsa"')
            if url:
                print(f"  download = {q(url)}")
            print(f"  source = {q('ca-certs/' + c['path'] if c['path'] else c['source'])}")
    # A DN-only fallback for Government CA issuing CAs that have no published certificate.
    print('''
[[ca]]
id = "vgca-other"
name = "Other issuing CA of Ban Cơ yếu Chính phủ (known by name only)"
class = "government"
operator = "Ban Cơ yếu Chính phủ"
website = "https://ca.gov.vn"
note = "names seen in signing software (e.g. CA phục vụ cho dịch vụ phần mềm); no certificate published, so DN-only"
issuer_patterns = ["O=Ban Cơ yếu Chính phủ & C=VN"]''')


main()
