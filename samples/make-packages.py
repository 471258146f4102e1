#!/usr/bin/python3
"""Signed XML, Office, OpenDocument and ZIP samples, made by real tools
under the TEST PKI of samples/pki (run after make-samples.py, which calls
this script at its end):

  LibreOffice 7.4 (Debian's soffice, driven through python3-uno) signs the
  .odt/.ods/.docx with certificates imported into an NSS database, exactly
  as a user would in File > Digital Signatures;
  xmlsec1 signs the XML e-invoices (tests/fixtures/make-xml-fixtures.sh);
  Info-ZIP's `zip -P` makes the encrypted archive; Python's zipfile the
  others. The ZIP bomb is built by hand (see zip_bomb) because no tool makes one.

Writes into samples/share (a few of each) and tests/fixtures/office (the
test cases, tampered copies included).

    apt-get install libreoffice-writer-nogui libreoffice-calc-nogui python3-uno libnss3-tools xmlsec1 zip
    /usr/bin/python3 samples/make-packages.py
"""
import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PKI, SHARE = HERE / "pki", HERE / "share"
OFFICE = ROOT / "tests" / "fixtures" / "office"
XML = ROOT / "tests" / "fixtures" / "xml"


def run(*args, **kw):
    subprocess.run([str(a) for a in args], check=True, **kw)


# ------------------------------------------------------------ LibreOffice --

def nss_db(tmp, signers):
    """An NSS database holding each signer's key and chain, as LibreOffice reads it."""
    db = tmp / "nss"
    db.mkdir()
    run("certutil", "-N", "-d", f"sql:{db}", "--empty-password")
    for name, chain in signers.items():
        p12 = tmp / f"{name}.p12"
        bundle = tmp / f"{name}-chain.pem"
        bundle.write_bytes(b"".join((PKI / f"{c}.pem").read_bytes() for c in chain))
        run("openssl", "pkcs12", "-export", "-inkey", PKI / f"{name}.key", "-in", PKI / f"{name}.pem",
            "-certfile", bundle, "-passout", "pass:", "-name", name, "-out", p12)
        run("pk12util", "-i", p12, "-d", f"sql:{db}", "-W", "", stdout=subprocess.DEVNULL)
    return db


class LibreOffice:
    def __init__(self, tmp, db):
        import uno  # python3-uno, Debian's system python
        self.uno = uno
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, MOZILLA_CERTIFICATE_FOLDER=f"sql:{db}", HOME=str(tmp / "home"))
        self.proc = subprocess.Popen(["soffice", "--headless", "--invisible", "--nologo", "--norestore",
                                      f"-env:UserInstallation=file://{tmp}/profile",
                                      f"--accept=socket,host=127.0.0.1,port={port};urp;"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(120):
            try:
                self.ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit("soffice did not start")
        self.smgr = self.ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        sec = self.smgr.createInstanceWithContext("com.sun.star.xml.crypto.SEInitializer", self.ctx).createSecurityContext("")
        self.certs = list(sec.getSecurityEnvironment().getPersonalCertificates())

    def pv(self, name, value):
        p = self.uno.createUnoStruct("com.sun.star.beans.PropertyValue")
        p.Name, p.Value = name, value
        return p

    def cert(self, email_or_cn):
        return next(c for c in self.certs if email_or_cn in c.SubjectName)

    def make(self, path, kind, filter_name, text):
        doc = self.desktop.loadComponentFromURL(f"private:factory/{kind}", "_blank", 0, (self.pv("Hidden", True),))
        if kind == "swriter":
            doc.Text.setString(text)
        else:
            sheet = doc.Sheets.getByIndex(0)
            for row, line in enumerate(text.split("\n")):
                for col, cell in enumerate(line.split(";")):
                    sheet.getCellByPosition(col, row).setString(cell)
        doc.storeToURL(self.uno.systemPathToFileUrl(str(path)), (self.pv("FilterName", filter_name),))
        doc.close(True)

    def sign(self, path, cert):
        """As LibreOffice's own DocumentSigner: sign the package through an
        in-memory storage, then write the stream back."""
        from com.sun.star.embed.ElementModes import READWRITE
        uno = self.uno
        mem = self.smgr.createInstanceWithContext("com.sun.star.comp.MemoryStream", self.ctx)
        mem.getOutputStream().writeBytes(uno.ByteSequence(path.read_bytes()))
        mem.seek(0)
        factory = self.smgr.createInstanceWithContext("com.sun.star.embed.StorageFactory", self.ctx)
        props = uno.Any("[]com.sun.star.beans.PropertyValue", (self.pv("StorageFormat", "ZipFormat"),))
        storage = uno.invoke(factory, "createInstanceWithArguments", ((mem, READWRITE, props),))
        signer = self.smgr.createInstanceWithArgumentsAndContext("com.sun.star.security.DocumentDigitalSignatures", ("1.2", False), self.ctx)
        if not signer.signDocumentWithCertificate(cert, storage, None):
            raise SystemExit(f"LibreOffice refused to sign {path}")
        mem.seek(0)
        _, data = mem.getInputStream().readBytes(None, mem.getLength())
        path.write_bytes(data.value)

    def close(self):
        try:
            self.desktop.terminate()
        except Exception:
            pass
        self.proc.wait(timeout=30)


def rezip(src, dst, replace):
    """Copy a package member by member (order and compression kept), with
    `replace(name, data)` changing some members: a change after signing."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, replace(info.filename, zin.read(info)))


def build_office(tmp):
    db = nss_db(tmp, {"signer-syt": ["gov-g2-nn"], "signer-stc": ["vnpt-ca", "neac-root"]})
    lo = LibreOffice(tmp, db)
    try:
        gov, com = lo.cert("lvminh@syt.thanhhoa.gov.vn"), lo.cert("Phạm Quốc Hùng")
        OFFICE.mkdir(parents=True, exist_ok=True)
        odt, docx, ods = OFFICE / "cong-van.odt", OFFICE / "bao-cao.docx", OFFICE / "du-toan.ods"
        lo.make(odt, "swriter", "writer8", "SỞ Y TẾ TỈNH THANH HÓA (TEST)\nCông văn số 20/SYT-VP về việc tiêm chủng mở rộng.")
        lo.sign(odt, gov)
        lo.make(docx, "swriter", "MS Word 2007 XML", "SỞ TÀI CHÍNH (TEST)\nBáo cáo tài chính năm 2024.")
        lo.sign(docx, com)
        lo.make(ods, "scalc", "calc8", "Hạng mục;Dự toán 2025 (TEST)\nXây dựng;1200000000\nThiết bị;350000000")
        # One signature each: signDocumentWithCertificate in LibreOffice 7.4
        # replaces an existing signature instead of adding a second (the
        # corpus has documents signed twice by Office and LibreOffice).
        lo.sign(ods, com)
    finally:
        lo.close()
    rezip(odt, OFFICE / "cong-van-sua.odt",
          lambda n, d: d.replace("20/SYT-VP".encode(), "99/SYT-VP".encode()) if n == "content.xml" else d)
    rezip(docx, OFFICE / "bao-cao-sua.docx",
          lambda n, d: d.replace("2024".encode(), "2025".encode()) if n == "word/document.xml" else d)
    shutil.copy(odt, SHARE / "Sở Y tế" / "2025" / "Công văn 20-SYT.odt")
    shutil.copy(docx, SHARE / "Sở Tài chính" / "Báo cáo tài chính 2024.docx")
    shutil.copy(ods, SHARE / "Sở Tài chính" / "Dự toán 2025.ods")


# -------------------------------------------------------------------- ZIP --

def zip_bomb(path, entries=100, each=100_000_000):
    """10 GB declared in 100 KB: `entries` central-directory entries all
    pointing at one deflate kernel of `each` zero bytes (the "overlapping
    files" bomb of D. Fifield, full-overlap variant). Every entry is a
    valid member: unzip would write `entries` x `each` bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = bytearray()
    chunk = bytes(1 << 20)
    left = each
    while left:
        n = min(left, len(chunk))
        kernel += comp.compress(chunk[:n])
        left -= n
    kernel += comp.flush()
    crc = 0
    left = each
    while left:
        n = min(left, len(chunk))
        crc = zlib.crc32(chunk[:n], crc)
        left -= n
    name = b"data.bin"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(kernel), each, len(name), 0) + name
    body = local + bytes(kernel)
    central = bytearray()
    for i in range(entries):
        entry_name = f"data-{i:03}.bin".encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(kernel), each,
                               len(entry_name), 0, 0, 0, 0, 0, 0) + entry_name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(central), len(body), 0)
    path.write_bytes(body + bytes(central) + end)


def build_zips(tmp):
    xml_gov = XML / "hoa-don-exclusive.xml"
    xml_com = XML / "hoa-don-inclusive.xml"
    # Nested: a project file with a signed PDF, and an annex ZIP holding an
    # e-invoice and the signed OpenDocument letter.
    annex = io.BytesIO()
    with zipfile.ZipFile(annex, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(xml_com, "Hóa đơn 0000123.xml")
        z.write(OFFICE / "cong-van.odt", "Công văn 20-SYT.odt")
    with zipfile.ZipFile(SHARE / "Sở Xây dựng" / "Hồ sơ dự án.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(SHARE / "Sở Y tế" / "2025" / "Công văn 56-SYT.pdf", "Tờ trình/Công văn 56-SYT.pdf")
        z.writestr("Phụ lục/Phụ lục.zip", annex.getvalue())
        z.writestr("Ghi chú.txt", "Hồ sơ dự án (TEST)\n")
    # A signed e-invoice pair as agencies receive them.
    shutil.copy(xml_gov, SHARE / "Sở Y tế" / "2025" / "Hóa đơn 0000456.xml")
    shutil.copy(XML / "thong-diep-2-chu-ky.xml", SHARE / "Tài liệu chung" / "Thông điệp hóa đơn (2 chữ ký).xml")
    # Broken archives: each one errors.csv row, the scan goes on.
    bad = SHARE / "Tài liệu lỗi"
    zip_bomb(bad / "Bom nén 10 GB.zip")
    whole = (SHARE / "Sở Xây dựng" / "Hồ sơ dự án.zip").read_bytes()
    (bad / "Nén hỏng.zip").write_bytes(whole[: len(whole) * 2 // 3])
    work = tmp / "enc"
    work.mkdir()
    shutil.copy(SHARE / "Sở Tài chính" / "Tờ trình 12-STC.pdf", work / "to-trinh.pdf")
    target = bad / "Có mật khẩu.zip"
    target.unlink(missing_ok=True)
    run("zip", "-q", "-P", "matkhau-TEST", target, "to-trinh.pdf", cwd=work)


def main():
    run("bash", ROOT / "tests" / "fixtures" / "make-xml-fixtures.sh", stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        build_office(tmp)
        build_zips(tmp)
    print("packages written to samples/share and", OFFICE.relative_to(ROOT))


if __name__ == "__main__":
    sys.exit(main())
