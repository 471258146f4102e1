#!/usr/bin/env python3
"""Build samples/: TEST PKIs, signed documents and the rules that make the
TEST CAs anchors. Everything here is marked TEST and never collides with
the real pins (other keys, "TEST" in every CA name).

Tools (real third-party signers, not sigaudit):
  openssl (certificates, CMS .p7s/.p7m), pyHanko (PDF signatures),
  reportlab (the PDFs before signing); then make-packages.py (LibreOffice,
  xmlsec1, zip) for the XML, Office, OpenDocument and ZIP samples.

    pip install pyhanko reportlab
    python3 samples/make-samples.py        # rewrites samples/{pki,rules,share}

Re-running makes new keys, so every fingerprint changes; tests read the
pins from samples/rules, never hard-coded fingerprints.
"""
import base64
import datetime
import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PKI, RULES, SHARE = HERE / "pki", HERE / "rules", HERE / "share"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{r.stdout}{r.stderr}")


# ---------------------------------------------------------------- PKI ----

EXT = """
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ca_path0]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf_noku]
basicConstraints = CA:FALSE
keyUsage = critical, keyEncipherment, dataEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf_email]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:copy
"""


def dn_args(dn):
    # openssl -subj wants /C=VN/O=.../CN=...
    return "/" + "/".join(p.replace("/", "\\/") for p in dn)


def make_key(name, kind="rsa"):
    key = PKI / f"{name}.key"
    if kind in ("ec", "ec384"):
        curve = "P-384" if kind == "ec384" else "P-256"
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}", "-out", key)
    else:
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    return key


def make_cert(name, dn, issuer=None, ext="ca", days=3650, start="20200101000000Z", kind="rsa", string_mask="utf8only"):
    """Self-signed when issuer is None; issuer is the name of a CA made here.
    `openssl ca` because OpenSSL 3.0's `x509 -req` cannot back-date."""
    key = make_key(name, kind)
    cert = PKI / f"{name}.pem"
    db = PKI / "db"
    db.mkdir(exist_ok=True)
    (db / "index.txt").write_text("")
    cfg = PKI / "openssl.cnf"
    cfg.write_text(f"""[req]
distinguished_name = dn
string_mask = {string_mask}
utf8 = yes
[dn]
[ca]
default_ca = test
[test]
database = {db}/index.txt
new_certs_dir = {db}
serial = {db}/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = yes
preserve = yes
string_mask = {string_mask}
utf8 = yes
[any]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
emailAddress = optional
""" + EXT.replace("[ca]", "[ca_ext]"))
    csr = PKI / f"{name}.csr"
    run("openssl", "req", "-new", "-utf8", "-config", cfg, "-key", key, "-subj", dn_args(dn), "-out", csr)
    end = (datetime.datetime.strptime(start, "%Y%m%d%H%M%SZ") + datetime.timedelta(days=days)).strftime("%Y%m%d%H%M%SZ")
    ca_args = ["-selfsign", "-keyfile", key] if issuer is None else ["-cert", PKI / f"{issuer}.pem", "-keyfile", PKI / f"{issuer}.key"]
    ext_section = "ca_ext" if ext == "ca" else ext
    (db / "serial").write_text("%016X\n" % random.getrandbits(63))
    run("openssl", "ca", "-batch", "-utf8", "-config", cfg, "-in", csr, *ca_args, "-extensions", ext_section, "-extfile", cfg,
        "-startdate", start, "-enddate", end, "-notext", "-out", cert)
    csr.unlink()
    shutil.rmtree(db)
    return cert


def fingerprint(cert):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def openssl_field(cert, *args):
    return subprocess.run(["openssl", "x509", "-in", cert, "-noout", *args, "-nameopt", "utf8,sep_comma_plus_space"],
                          check=True, capture_output=True, text=True).stdout.strip()


def ski(cert):
    out = openssl_field(cert, "-ext", "subjectKeyIdentifier")
    return out.splitlines()[-1].strip().replace(":", "")


GOV2_O = "O=Ban Cơ yếu Chính phủ (TEST)"
GOV1_O = "O=Ban Co yeu Chinh phu (TEST)"
NEAC_O = "O=Ministry of Information and Communications (TEST)"


def build_pki():
    shutil.rmtree(PKI, ignore_errors=True)
    PKI.mkdir()
    # Government specialized CA, G2 style (Vietnamese names) and G1 style (ASCII).
    make_cert("gov-g2-root", ["C=VN", GOV2_O, "CN=TEST RootCA chuyên dùng Chính phủ G2"], days=9000, start="20180822000000Z")
    make_cert("gov-g2-nn", ["C=VN", GOV2_O, "CN=TEST CA phục vụ các cơ quan Nhà nước G2"], "gov-g2-root", "ca_path0", days=8000, start="20180823000000Z")
    make_cert("gov-g1-root", ["C=VN", GOV1_O, "CN=TEST Co quan chung thuc so chuyen dung Chinh phu (RootCA)"], days=7300, start="20100310000000Z")
    make_cert("gov-g1-cp", ["C=VN", GOV1_O, "CN=TEST Co quan chung thuc so Chinh phu"], "gov-g1-root", days=7200, start="20100325000000Z")
    # NEAC-style national root and licensed commercial CAs.
    make_cert("neac-root", ["C=VN", NEAC_O, "OU=National Centre of Digital Signature Authentication", "CN=TEST Vietnam National Root CA"], days=9000, start="20140415000000Z")
    make_cert("vnpt-ca", ["C=VN", "O=VIETNAM POSTS AND TELECOMMUNICATIONS GROUP (TEST)", "CN=TEST VNPT-CA SHA2"], "neac-root", "ca_path0", days=3000, start="20190830000000Z")
    make_cert("viettel-ca", ["C=VN", "O=Viettel Group (TEST)", "CN=TEST Viettel-CA SHA2"], "neac-root", "ca_path0", days=3000, start="20190417000000Z")
    # A foreign CA the rules list, and one nobody lists.
    make_cert("foreign-ca", ["C=FR", "O=Autorité Exemple (TEST)", "CN=TEST Foreign Qualified CA"], days=5000, start="20150101000000Z")
    make_cert("unknown-ca", ["C=VN", "O=Công ty Chứng thực Không Rõ (TEST)", "CN=TEST Unknown CA"], days=5000, start="20150101000000Z")
    # The forgery: an attacker's root and intermediate copying the TEST
    # government names, with their own keys.
    make_cert("forged-g2-root", ["C=VN", GOV2_O, "CN=TEST RootCA chuyên dùng Chính phủ G2"], days=9000, start="20180822000000Z")
    make_cert("forged-g2-nn", ["C=VN", GOV2_O, "CN=TEST CA phục vụ các cơ quan Nhà nước G2"], "forged-g2-root", "ca_path0", days=8000, start="20180823000000Z")

    # Signers.
    S = "20230101000000Z"
    make_cert("signer-syt", ["C=VN", "L=Thanh Hóa", "O=ỦY BAN NHÂN DÂN TỈNH THANH HÓA", "OU=Sở Y tế", "CN=Lê Văn Minh",
                             "emailAddress=lvminh@syt.thanhhoa.gov.vn"], "gov-g2-nn", "leaf", days=1825, start=S)
    make_cert("signer-vp", ["C=VN", "O=UBND tinh Thanh Hoa", "OU=Van phong UBND tinh", "CN=Tran Thi Lan"], "gov-g1-cp", "leaf", days=1825, start="20210101000000Z")
    make_cert("signer-syt-vnpt", ["C=VN", "ST=Thanh Hóa", "O=Sở Y tế tỉnh Thanh Hóa", "CN=Hoàng Đức Thắng"], "vnpt-ca", "leaf", days=1095, start="20220301000000Z")
    # BMPString names, as older tools write them (openssl string_mask=default).
    make_cert("signer-stc", ["C=VN", "ST=Thanh Hóa", "O=Sở Tài chính tỉnh Thanh Hóa", "CN=Phạm Quốc Hùng"], "vnpt-ca", "leaf",
              days=2190, start="20220601000000Z", string_mask="default")
    make_cert("signer-hh", ["C=VN", "O=UBND huyện Hoằng Hóa", "CN=Nguyễn Thị Hoa"], "viettel-ca", "leaf", days=1095, start="20230201000000Z", kind="ec")
    make_cert("signer-hh-email", ["C=VN", "O=Hộ kinh doanh (TEST)", "CN=Đỗ Văn Nam", "emailAddress=dvnam@hoanghoa.thanhhoa.gov.vn"],
              "viettel-ca", "leaf_email", days=2190, start="20230201000000Z")
    make_cert("signer-forged", ["C=VN", "O=Sở Giáo dục và Đào tạo tỉnh Thanh Hóa", "CN=Nguyễn Giả Mạo"], "forged-g2-nn", "leaf", days=1825, start=S)
    make_cert("signer-foreign", ["C=FR", "O=Cabinet Conseil Exemple", "CN=Jean Dupont"], "foreign-ca", "leaf", days=1825, start=S)
    make_cert("signer-unknown", ["C=VN", "O=Công ty TNHH Thương mại ABC", "CN=Vũ Thị Thu"], "unknown-ca", "leaf", days=1825, start=S)
    make_cert("signer-self", ["C=VN", "O=UBND huyện Hoằng Hóa", "CN=Bùi Văn Tự Ký"], None, "leaf", days=1825, start=S)
    # Verification cases: a pinned intermediate nobody ships, an expired
    # signer, a key not meant for signing, ECDSA P-384.
    make_cert("gov-g2-dang", ["C=VN", GOV2_O, "CN=TEST CA phục vụ các cơ quan Đảng G2"], "gov-g2-root", "ca_path0", days=8000, start="20180823000000Z")
    make_cert("signer-dang", ["C=VN", "O=Sở Công Thương tỉnh Thanh Hóa", "CN=Lương Thị Mai"], "gov-g2-dang", "leaf", days=1825, start=S)
    make_cert("signer-expired", ["C=VN", "O=Sở Xây dựng tỉnh Thanh Hóa", "CN=Trịnh Văn Cũ"], "vnpt-ca", "leaf", days=365, start="20200101000000Z")
    make_cert("signer-noku", ["C=VN", "O=Sở Xây dựng tỉnh Thanh Hóa", "CN=Ngô Thị Khóa"], "gov-g2-nn", "leaf_noku", days=1825, start=S)
    make_cert("signer-p384", ["C=VN", "O=Sở Xây dựng tỉnh Thanh Hóa", "CN=Đinh Công P384"], "viettel-ca", "leaf", days=1825, start=S, kind="ec384")
    (PKI / "openssl.cnf").unlink()


# -------------------------------------------------------------- rules ----

TEST_CAS = [
    # id, name, class, cert names
    ("test-vgca-g2-root", "TEST RootCA chuyên dùng Chính phủ G2", "government", ["gov-g2-root"]),
    ("test-vgca-g2-nha-nuoc", "TEST CA phục vụ các cơ quan Nhà nước G2", "government", ["gov-g2-nn"]),
    ("test-vgca-g1-root", "TEST Co quan chung thuc so chuyen dung Chinh phu (RootCA)", "government", ["gov-g1-root"]),
    ("test-vgca-g1-chinh-phu", "TEST Co quan chung thuc so Chinh phu (G1)", "government", ["gov-g1-cp"]),
    ("test-neac-root", "TEST Vietnam National Root CA", "commercial", ["neac-root"]),
    ("test-vnpt-ca", "TEST VNPT-CA", "commercial", ["vnpt-ca"]),
    ("test-viettel-ca", "TEST Viettel-CA", "commercial", ["viettel-ca"]),
    ("test-foreign-ca", "TEST Foreign Qualified CA", "foreign", ["foreign-ca"]),
    # Pinned, but its certificate is deliberately NOT in anchors/: signers
    # that embed only their leaf cannot be chained (chain=incomplete).
    ("test-vgca-g2-dang", "TEST CA phục vụ các cơ quan Đảng G2", "government", ["gov-g2-dang"]),
]
ANCHORS = ["gov-g2-root", "gov-g2-nn", "gov-g1-root", "gov-g1-cp", "neac-root", "vnpt-ca", "viettel-ca", "foreign-ca"]


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rfc3339(openssl_date):
    return datetime.datetime.strptime(" ".join(openssl_date.split()), "%b %d %H:%M:%S %Y GMT").strftime("%Y-%m-%dT%H:%M:%SZ")


def build_rules():
    shutil.rmtree(RULES, ignore_errors=True)
    (RULES / "ca.d").mkdir(parents=True)
    (RULES / "anchors").mkdir()
    lines = ["# TEST certification authorities of the samples (made by samples/make-samples.py).",
             "# Added on top of the built-in catalogue: never use these outside tests.", "schema = 1"]
    for cid, name, klass, certs in TEST_CAS:
        lines += ["", "[[ca]]", f"id = {q(cid)}", f"name = {q(name)}", f"class = {q(klass)}", 'operator = "TEST"']
        for c in certs:
            pem = PKI / f"{c}.pem"
            lines += ["", "  [[ca.cert]]",
                      f"  subject = {q(openssl_field(pem, '-subject').removeprefix('subject='))}",
                      f"  issuer = {q(openssl_field(pem, '-issuer').removeprefix('issuer='))}",
                      f"  sha256 = {q(fingerprint(pem))}",
                      f"  ski = {q(ski(pem))}",
                      f"  not_before = {q(rfc3339(openssl_field(pem, '-startdate').split('=', 1)[1]))}",
                      f"  not_after = {q(rfc3339(openssl_field(pem, '-enddate').split('=', 1)[1]))}"]
    (RULES / "ca.d" / "test-pki.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for c in ANCHORS:
        shutil.copy(PKI / f"{c}.pem", RULES / "anchors" / f"{c}.pem")


# ---------------------------------------------------------- documents ----

def make_pdf(path, title, lines):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", FONT))
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle(title)
    c.setFont("DejaVu", 14)
    c.drawString(72, 780, title)
    c.setFont("DejaVu", 11)
    for i, line in enumerate(lines):
        c.drawString(72, 750 - 18 * i, line)
    c.showPage()
    c.save()


def pdf_sign(src, dst, signer, chain=(), field="Signature1", when=None, subfilter="adbe", md="sha256", pss=False):
    """Sign with pyHanko; `when` fixes the signing time (trend samples)."""
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers import pdf_signer
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    if when is not None:
        class Fixed(datetime.datetime):
            @classmethod
            def now(cls, tz=None):
                return when
        pdf_signer.datetime = Fixed
    s = signers.SimpleSigner.load(str(PKI / f"{signer}.key"), str(PKI / f"{signer}.pem"),
                                  ca_chain_files=[str(PKI / f"{c}.pem") for c in chain], prefer_pss=pss)
    sub = fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED if subfilter == "adbe" else fields.SigSeedSubFilter.PADES
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=sub, md_algorithm=md)
    with open(src, "rb") as inf:
        w = IncrementalPdfFileWriter(inf)
        with open(dst, "wb") as out:
            signers.sign_pdf(w, meta, signer=s, output=out)
    pdf_signer.datetime = datetime.datetime


def append_content_update(path):
    """An incremental update after signing that adds text to the page: what
    a forger (or a careless editor) does to a signed PDF."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    with open(path, "rb") as f:
        w = IncrementalPdfFileWriter(f)
        page = w.root["/Pages"]["/Kids"][0]
        extra = generic.StreamObject(stream_data=b"BT /F1 20 Tf 72 500 Td (DA SUA SAU KHI KY) Tj ET")
        ref = w.add_object(extra)
        page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), ref])
        w.update_container(page)
        out = path.with_suffix(".tmp")
        with open(out, "wb") as o:
            w.write(o)
    out.replace(path)


def flip_signed_byte(path):
    """One byte changed inside the signed range (a letter of the title)."""
    b = bytearray(path.read_bytes())
    i = b.index(b"/Title")
    i = b.index(b"(", i) + 5
    b[i] ^= 0x01
    path.write_bytes(bytes(b))


def cms_sign(data, dst, signer, chain=(), attached=False, outform="DER"):
    certfile = []
    if chain:
        bundle = PKI / "chain.tmp.pem"
        bundle.write_text("".join((PKI / f"{c}.pem").read_text() for c in chain))
        certfile = ["-certfile", bundle]
    run("openssl", "cms", "-sign", "-binary", "-in", data, "-signer", PKI / f"{signer}.pem", "-inkey", PKI / f"{signer}.key",
        *certfile, *([] if attached else []), *(["-nodetach"] if attached else []), "-md", "sha256",
        "-outform", outform, "-out", dst)
    if chain:
        bundle.unlink()


def tz7(y, m, d, h=9):
    return datetime.datetime(y, m, d, h, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))


def build_share():
    shutil.rmtree(SHARE, ignore_errors=True)
    tmp = HERE / ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    def doc(rel, title, signer=None, chain=(), when=None, subfilter="adbe", **kw):
        dst = SHARE / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        base = tmp / "base.pdf"
        make_pdf(base, title, ["TÀI LIỆU MẪU (TEST) — sinh bởi samples/make-samples.py", f"Tệp: {rel}"])
        if signer is None:
            shutil.copy(base, dst)
        else:
            pdf_sign(base, dst, signer, chain, when=when, subfilter=subfilter, **kw)
        return dst

    # UBND tỉnh: G1-style government, issuer from the anchors only.
    doc("UBND tỉnh Thanh Hóa/Văn phòng/Quyết định 1234-QĐ-UBND.pdf", "QUYẾT ĐỊNH số 1234/QĐ-UBND", "signer-vp", when=tz7(2024, 3, 12))
    doc("UBND tỉnh Thanh Hóa/Văn phòng/Thông báo 15-TB-UBND.pdf", "THÔNG BÁO số 15/TB-UBND", "signer-vp", ["gov-g1-cp"], when=tz7(2025, 1, 8), subfilter="pades")
    # Sở Y tế: migrated from VNPT (commercial) to the government CA.
    doc("Sở Y tế/2024/Báo cáo quý 4-2024.pdf", "BÁO CÁO quý IV năm 2024", "signer-syt-vnpt", ["vnpt-ca"], when=tz7(2024, 12, 20))
    doc("Sở Y tế/2025/Công văn 56-SYT.pdf", "CÔNG VĂN số 56/SYT", "signer-syt", ["gov-g2-nn"], when=tz7(2025, 2, 14))
    doc("Sở Y tế/2025/Kế hoạch tiêm chủng.pdf", "KẾ HOẠCH tiêm chủng mở rộng", "signer-syt", when=tz7(2025, 3, 3), subfilter="pades")
    # Signed twice: commercial first, then the government signer, as two revisions.
    twice = doc("Sở Y tế/2025/Tờ trình (ký 2 lần).pdf", "TỜ TRÌNH (hai chữ ký)", "signer-syt-vnpt", ["vnpt-ca"], when=tz7(2025, 1, 20))
    tmp_twice = tmp / "twice.pdf"
    shutil.copy(twice, tmp_twice)
    pdf_sign(tmp_twice, twice, "signer-syt", ["gov-g2-nn"], field="Signature2", when=tz7(2025, 1, 21))
    # Sở Tài chính: commercial PDF and CMS files (BMPString subject names).
    doc("Sở Tài chính/Tờ trình 12-STC.pdf", "TỜ TRÌNH số 12/STC", "signer-stc", ["vnpt-ca"], when=tz7(2024, 11, 5))
    data = SHARE / "Sở Tài chính/Hợp đồng mua sắm.pdf"
    make_pdf(data, "HỢP ĐỒNG mua sắm thiết bị", ["Ký tách rời (.p7s PEM) bằng openssl cms"])
    cms_sign(data, SHARE / "Sở Tài chính/Hợp đồng mua sắm.pdf.p7s", "signer-stc", ["vnpt-ca"], outform="PEM")
    xlsx = tmp / "du-toan.csv"
    xlsx.write_text("Hạng mục,Số tiền\nThiết bị,120000000\n", encoding="utf-8")
    cms_sign(xlsx, SHARE / "Sở Tài chính/Dự toán 2025.csv.p7m", "signer-stc", ["vnpt-ca"], attached=True)
    # Sở Giáo dục: a forged "government" chain.
    doc("Sở Giáo dục và Đào tạo/Kết quả thi (giả mạo).pdf", "KẾT QUẢ THI (chữ ký giả mạo Ban Cơ yếu)", "signer-forged", ["forged-g2-nn", "forged-g2-root"], when=tz7(2025, 4, 2))
    # Sở Nội vụ: signed under a foreign CA.
    doc("Sở Nội vụ/Thỏa thuận hợp tác.pdf", "THỎA THUẬN hợp tác quốc tế", "signer-foreign", ["foreign-ca"], when=tz7(2024, 9, 9))
    # UBND huyện Hoằng Hóa: Viettel (ECDSA), self-signed, and unsigned files.
    doc("UBND huyện Hoằng Hóa/Quyết định 45-QĐ-UBND.pdf", "QUYẾT ĐỊNH số 45/QĐ-UBND", "signer-hh", ["viettel-ca"], when=tz7(2024, 6, 17))
    doc("UBND huyện Hoằng Hóa/Biên bản (tự ký).pdf", "BIÊN BẢN họp (chứng thư tự ký)", "signer-self", when=tz7(2025, 5, 6))
    doc("UBND huyện Hoằng Hóa/Giấy mời.pdf", "GIẤY MỜI (không ký)")
    (SHARE / "UBND huyện Hoằng Hóa/Ghi chú.txt").write_text("Tệp văn bản không ký.\n", encoding="utf-8")
    # A shared folder no path rule covers: agency from the signer certificate.
    doc("Tài liệu chung/Công văn Hoằng Hóa gửi tỉnh.pdf", "CÔNG VĂN (lưu ở thư mục chung)", "signer-hh", ["viettel-ca"], when=tz7(2025, 2, 25))
    inv = tmp / "hoadon.xml"
    inv.write_text("<HDon><TTChung><SHDon>123</SHDon></TTChung></HDon>\n", encoding="utf-8")
    cms_sign(inv, tmp / "hoadon.p7m", "signer-hh-email", ["viettel-ca"], attached=True)
    (SHARE / "Tài liệu chung/Hóa đơn 123.xml.p7m").write_text(
        base64.encodebytes((tmp / "hoadon.p7m").read_bytes()).decode(), encoding="ascii")
    doc("Tài liệu chung/Hợp đồng ABC.pdf", "HỢP ĐỒNG với Công ty ABC (CA không rõ)", "signer-unknown", ["unknown-ca"], when=tz7(2024, 10, 1))

    # Verification verdicts (issue: integrity, modification, validity).
    tampered = doc("Sở Tư pháp/Quyết định 77 (sửa sau khi ký).pdf", "QUYẾT ĐỊNH số 77 (nội dung bị thêm sau khi ký)", "signer-syt", ["gov-g2-nn"], when=tz7(2025, 6, 2))
    append_content_update(tampered)
    flipped = doc("Sở Tư pháp/Công văn 78 (sửa 1 byte).pdf", "CÔNG VĂN số 78 (một byte bị sửa)", "signer-syt", ["gov-g2-nn"], when=tz7(2025, 6, 3))
    flip_signed_byte(flipped)
    doc("Sở Xây dựng/Hợp đồng (RSA-PSS).pdf", "HỢP ĐỒNG (chữ ký RSA-PSS)", "signer-syt", ["gov-g2-nn"], when=tz7(2025, 7, 1), pss=True)
    doc("Sở Xây dựng/Quyết định cũ (SHA-1).pdf", "QUYẾT ĐỊNH (băm SHA-1)", "signer-vp", ["gov-g1-cp"], when=tz7(2023, 5, 5), md="sha1")
    doc("Sở Xây dựng/Biên bản (ECDSA P-384).pdf", "BIÊN BẢN (ECDSA P-384)", "signer-p384", ["viettel-ca"], when=tz7(2025, 7, 2), md="sha384")
    doc("Sở Xây dựng/Tờ trình (chứng thư hết hạn).pdf", "TỜ TRÌNH (ký khi chứng thư đã hết hạn)", "signer-expired", ["vnpt-ca"], when=tz7(2023, 3, 1))
    doc("Sở Xây dựng/Thông báo (khóa không dùng để ký).pdf", "THÔNG BÁO (khóa chỉ để mã hóa)", "signer-noku", ["gov-g2-nn"], when=tz7(2025, 7, 3))
    doc("Sở Công Thương/Công văn 9 (thiếu CA trung gian).pdf", "CÔNG VĂN số 9 (chỉ kèm chứng thư người ký)", "signer-dang", when=tz7(2025, 8, 1))
    # A detached signature whose data file was not copied with it.
    orphan = tmp / "bao-cao.csv"
    orphan.write_text("Chỉ tiêu,Giá trị\n", encoding="utf-8")
    cms_sign(orphan, SHARE / "Sở Tài chính/Báo cáo tài chính 2024.csv.p7s", "signer-stc", ["vnpt-ca"])

    build_mail(tmp)

    # Malformed inputs: each must become an errors.csv row, the rest of the scan goes on.
    bad = SHARE / "Tài liệu lỗi"
    bad.mkdir()
    good = (SHARE / "Sở Y tế/2025/Công văn 56-SYT.pdf").read_bytes()
    contents = good.index(b"/Contents <") + len(b"/Contents ")
    end = good.index(b">", contents)
    # Cut in the middle of the signature value.
    (bad / "Cắt cụt giữa chữ ký.pdf").write_bytes(good[: contents + (end - contents) // 2])
    # Same length, so the /ByteRange still brackets it, but not DER.
    garbage_hex = (b"DEADBEEF" * ((end - contents) // 8 + 1))[: end - contents - 1]
    (bad / "Contents không phải DER.pdf").write_bytes(good[: contents + 1] + garbage_hex + good[end:])
    random.seed(7)
    (bad / "Rác.pdf").write_bytes(bytes(random.getrandbits(8) for _ in range(4096)))
    (bad / "Hỏng.p7s").write_bytes(b"\x30\x82\x10\x00" + bytes(random.getrandbits(8) for _ in range(300)))
    # Trailer and xref lost after the signature: the object parser gives up,
    # the raw scan still finds the signer.
    (bad / "Mất trailer.pdf").write_bytes(good[: good.rindex(b"xref")])
    shutil.rmtree(tmp)


def smime_sign(entity_bytes, signer, chain=(), opaque=False):
    """openssl smime: a signed MIME message (multipart/signed, or opaque
    application/pkcs7-mime), CRLF canonical as it travels."""
    tmp = PKI / "entity.tmp"
    tmp.write_bytes(entity_bytes)
    out = PKI / "signed.tmp"
    args = ["openssl", "smime", "-sign", "-in", tmp, "-signer", PKI / f"{signer}.pem", "-inkey", PKI / f"{signer}.key", "-md", "sha256", "-out", out]
    if chain:
        bundle = PKI / "chain.tmp.pem"
        bundle.write_text("".join((PKI / f"{c}.pem").read_text() for c in chain))
        args += ["-certfile", bundle]
    if opaque:
        args += ["-nodetach"]
    run(*args)
    data = out.read_bytes()
    for p in (tmp, out, PKI / "chain.tmp.pem"):
        p.unlink(missing_ok=True)
    return data


def build_mail(tmp):
    """Mailboxes made with Python's email package and openssl smime."""
    import email.policy
    import io
    import zipfile
    from email.message import EmailMessage
    from email.generator import BytesGenerator
    from email.utils import format_datetime, make_msgid

    def headers(msg, sender, to, subject, when):
        msg["From"] = sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = make_msgid(domain=sender.split("@")[1].rstrip(">"))

    def as_bytes(msg):
        buf = io.BytesIO()
        BytesGenerator(buf, policy=email.policy.SMTP).flatten(msg)
        return buf.getvalue()

    def signed_mail(sender, to, subject, when, body, signer, chain=(), opaque=False, attach=None):
        entity = EmailMessage(policy=email.policy.SMTP)
        entity.set_content(body, cte="quoted-printable")
        if attach:
            entity.add_attachment(attach[1], maintype="application", subtype=attach[2], filename=attach[0])
        # openssl signs the entity as given; the outer headers come first.
        entity_bytes = as_bytes(entity).split(b"\r\n", 1)[1] if False else as_bytes(entity)
        signed = smime_sign(entity_bytes, signer, chain, opaque)
        head = (f"From: {sender}\r\nTo: {to}\r\nSubject: =?utf-8?b?{base64.b64encode(subject.encode()).decode()}?=\r\n"
                f"Date: {format_datetime(when)}\r\nMessage-ID: {make_msgid(domain=sender.split('@')[1])}\r\n").encode()
        return head + signed

    def plain_mail(sender, to, subject, when, body, attachments=()):
        msg = EmailMessage(policy=email.policy.SMTP)
        headers(msg, sender, to, subject, when)
        msg.set_content(body)
        for name, data, subtype in attachments:
            msg.add_attachment(data, maintype="application", subtype=subtype, filename=name)
        return as_bytes(msg)

    def forward(sender, to, subject, when, inner):
        """Forward as attachment, the original bytes kept verbatim (as mail
        clients do), so its signature still verifies."""
        b = "----=_fwd_" + make_msgid(domain="x").strip("<>").split("@")[0]
        head = (f"From: {sender}\r\nTo: {to}\r\nSubject: =?utf-8?b?{base64.b64encode(subject.encode()).decode()}?=\r\n"
                f"Date: {format_datetime(when)}\r\nMessage-ID: {make_msgid(domain=sender.split('@')[1])}\r\nMIME-Version: 1.0\r\n"
                f"Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n"
                f"--{b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nChuyển tiếp thư có chữ ký số.\r\n"
                f"--{b}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"thu-goc.eml\"\r\n\r\n").encode()
        return head + inner + f"\r\n--{b}--\r\n".encode()

    syt = "Văn thư Sở Y tế <vanthu@syt.thanhhoa.gov.vn>".encode("utf-8").decode()
    signed_pdf = (SHARE / "Sở Y tế/2025/Công văn 56-SYT.pdf").read_bytes()
    vnpt_pdf = (SHARE / "Sở Y tế/2024/Báo cáo quý 4-2024.pdf").read_bytes()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Hồ sơ/Công văn 56-SYT.pdf", signed_pdf)
        z.writestr("Hồ sơ/ghi chú.txt", "Không ký.")
    s1 = signed_mail("vanthu@syt.thanhhoa.gov.vn", "vanphong@thanhhoa.gov.vn", "Công văn về tiêm chủng (ký S/MIME)", tz7(2025, 3, 10),
                     "Kính gửi Văn phòng UBND tỉnh,\nSở Y tế gửi công văn về tiêm chủng.\nFrom đầu dòng trong nội dung thư.\n", "signer-syt", ["gov-g2-nn"])
    s2 = signed_mail("ketoan@stc.thanhhoa.gov.vn", "vanthu@syt.thanhhoa.gov.vn", "Dự toán (ký S/MIME dạng opaque)", tz7(2025, 4, 1),
                     "Gửi kèm dự toán.\n", "signer-stc", ["vnpt-ca"], opaque=True)
    m3 = plain_mail("vanthu@syt.thanhhoa.gov.vn", "vanphong@thanhhoa.gov.vn", "Báo cáo quý 4 (đính kèm PDF đã ký)", tz7(2025, 1, 5),
                    "Đính kèm báo cáo.", [("Báo cáo quý 4-2024.pdf", vnpt_pdf, "pdf")])
    m4 = plain_mail("vanthu@syt.thanhhoa.gov.vn", "vanphong@thanhhoa.gov.vn", "Hồ sơ nén (ZIP)", tz7(2025, 3, 12),
                    "Hồ sơ nén kèm theo.", [("Hồ sơ tiêm chủng.zip", zipped.getvalue(), "zip")])
    m5 = forward("vanphong@thanhhoa.gov.vn", "lanhdao@thanhhoa.gov.vn", "Fwd: Công văn về tiêm chủng", tz7(2025, 3, 11), s1)
    broken = (b"From: loi@example.vn\r\nSubject: thu loi\r\nMIME-Version: 1.0\r\n"
              b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b1\"\r\n\r\n"
              b"--b1\r\nContent-Type: text/plain\r\n\r\nnoi dung\r\n--b1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\nTUlJQkFBQUFCQkJC\r\n--b1--\r\n")

    def mbox(path, messages):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            for m in messages:
                f.write(b"From MAILER-DAEMON Mon Mar 10 09:00:00 2025\n")
                for line in m.replace(b"\r\n", b"\n").split(b"\n"):
                    f.write((b">" + line if line.lstrip(b">").startswith(b"From ") else line) + b"\n")
                f.write(b"\n")

    mbox(SHARE / "Sở Y tế/Hộp thư/vanthu.mbox", [s1, s2, m3, m4, m5, broken])
    maildir = SHARE / "Sở Tài chính/Maildir"
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "cur/1741570000.M1P1.stc:2,S").write_bytes(s2)
    (maildir / "new/1741570001.M2P1.stc").write_bytes(m3)
    (maildir / ".Sent/cur/1741570002.M3P1.stc:2,S").write_bytes(
        signed_mail("ketoan@stc.thanhhoa.gov.vn", "vanphong@thanhhoa.gov.vn", "Đã gửi: báo cáo tài chính", tz7(2025, 5, 2),
                    "Báo cáo tài chính (thư đã gửi).\n", "signer-stc", ["vnpt-ca"]))
    eml = SHARE / "Tài liệu chung/Thư đến"
    eml.mkdir(parents=True, exist_ok=True)
    # No path rule covers this folder: the sender's domain names the agency.
    (eml / "Công văn Sở Y tế.eml").write_bytes(s1)


def main():
    random.seed(int.from_bytes(os.urandom(4), "big"))
    build_pki()
    build_rules()
    build_share()
    # XML, Office, OpenDocument and ZIP samples: LibreOffice needs Debian's
    # python3 (python3-uno), so that part is its own script.
    subprocess.run(["/usr/bin/python3", str(HERE / "make-packages.py")], check=True)
    # Companies, citizens and a signature without its certificate (attribution).
    subprocess.run(["/usr/bin/python3", str(HERE / "make-attribution-samples.py")], check=True)
    print("samples rebuilt:", sum(1 for _ in SHARE.rglob("*") if _.is_file()), "files")


if __name__ == "__main__":
    sys.exit(main())
