#!/usr/bin/env python3
"""The generated province share of scripts/bench-province and scripts/bench-share.

    scripts/gen-province.py TREE FILES

Writes FILES files under TREE from a fixed seed (so both benchmarks measure
the same tree): 72% PDFs (98% of them 10-100 KB, 2% 100 KB-5 MB), 23%
.docx/.xlsx, 3% text and 2.15% signed files (copies of samples/share). Run
from the repository's root (it reads samples/share).
"""
import io, os, random, shutil, sys, zipfile
from pathlib import Path
root, total = Path(sys.argv[1]), int(sys.argv[2])
random.seed(16)
samples = Path("samples/share")
signed = sorted(p for p in samples.rglob("*") if p.is_file() and "lỗi" not in str(p) and (p.suffix in (".p7m", ".p7s") or (p.suffix == ".pdf" and b"/ByteRange" in p.read_bytes())))
agencies = ["Sở Y tế", "Sở Tài chính", "Sở Nội vụ", "Sở Tư pháp", "Sở Xây dựng", "Sở Giáo dục và Đào tạo", "UBND huyện Hoằng Hóa", "UBND tỉnh Thanh Hóa/Văn phòng"]
blob = random.randbytes(6 << 20)  # compressed page content looks random
words = ["công", "văn", "số", "ngày", "tháng", "năm", "Sở", "Y", "tế", "quyết", "định", "về", "việc"]
def pdf(size):
    n = max(size - 400, 100); off = random.randrange(0, len(blob) - n)
    return b"".join([b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\nendobj\n",
        b"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % n, blob[off:off + n], b"\nendstream\nendobj\n",
        b"xref\n0 5\n0000000000 65535 f \ntrailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"])
def office(kind):
    buf = io.BytesIO()
    main = "word/document.xml" if kind == "docx" else "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>')
        z.writestr(main, "<doc>" + " ".join(random.choice(words) for _ in range(random.randint(500, 8000))) + "</doc>")
        z.writestr("docProps/core.xml", "<cp:coreProperties/>")
        z.writestr(main.split("/")[0] + "/media/image1.png", blob[: random.randint(2000, 40000)])
    return buf.getvalue()
for i in range(total):
    d = root / random.choice(agencies) / f"{2019 + i % 7}" / f"{i % 12 + 1:02d}"
    d.mkdir(parents=True, exist_ok=True)
    r = random.random()
    if r < 0.0215:
        src = signed[i % len(signed)]; shutil.copy(src, d / f"{i} {src.name}")
    elif r < 0.74:
        small = random.random() < 0.98
        size = int(10_000 * 10 ** random.random()) if small else int(100_000 * 50 ** random.random())
        (d / f"văn bản {i}.pdf").write_bytes(pdf(size))
    elif r < 0.97:
        kind = random.choice(["docx", "xlsx"]); (d / f"tài liệu {i}.{kind}").write_bytes(office(kind))
    else:
        (d / f"ghi chú {i}.txt").write_bytes(random.randbytes(random.randint(256, 2048)).hex().encode())
