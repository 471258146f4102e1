#!/usr/bin/env python3
"""Samples for attribution (SPEC.md, "Attribution: whose signature is it"),
signed with openssl under the samples' TEST PKI (run by make-samples.py,
or alone after it):

  Sở Xây dựng/Hợp đồng thi công (công ty ký).txt.p7m
      a construction company's contract, signed with its TEST Viettel-CA
      certificate (O = Công ty Cổ phần ...): external, found in Sở Xây dựng
  Sở Tư pháp/Đơn đề nghị (công dân ký).txt.p7m
      a citizen's application, personal TEST VNPT-CA certificate without O:
      stays with the place (location), as a clerk's own certificate would
  Sở Nội vụ/Công văn (không kèm chứng thư).txt.p7m
      a signature that carries no certificate (openssl cms -nocerts):
      a row with chain=no-certificate, attributed to the place
"""

import importlib.util
import pathlib
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location("make_samples", HERE / "make-samples.py")
samples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(samples)

SHARE = HERE / "share"
START = "20240101000000Z"


def main():
    samples.make_cert("signer-company", ["C=VN", "O=Công ty Cổ phần Xây dựng Sông Mã (TEST)", "CN=Trần Văn Thầu"], "viettel-ca", "leaf", days=1825, start=START)
    samples.make_cert("signer-citizen", ["C=VN", "CN=Nguyễn Văn Dân"], "vnpt-ca", "leaf", days=1825, start=START)
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        cases = [
            ("Sở Xây dựng/Hợp đồng thi công (công ty ký).txt.p7m", "Hợp đồng thi công trụ sở (bên B ký).\n", "signer-company", ["viettel-ca"], True),
            ("Sở Tư pháp/Đơn đề nghị (công dân ký).txt.p7m", "Đơn đề nghị cấp phiếu lý lịch tư pháp.\n", "signer-citizen", ["vnpt-ca"], True),
            ("Sở Nội vụ/Công văn (không kèm chứng thư).txt.p7m", "Công văn về tuyển dụng viên chức.\n", "signer-syt", [], False),
        ]
        for dst, text, signer, chain, with_certs in cases:
            data = tmp / "data.txt"
            data.write_text(text)
            out = SHARE / dst
            if with_certs:
                samples.cms_sign(data, out, signer, chain=chain, attached=True)
            else:
                samples.run("openssl", "cms", "-sign", "-binary", "-nodetach", "-nocerts", "-in", data, "-signer", samples.PKI / f"{signer}.pem",
                            "-inkey", samples.PKI / f"{signer}.key", "-md", "sha256", "-outform", "DER", "-out", out)


if __name__ == "__main__":
    main()
