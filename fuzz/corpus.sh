#!/usr/bin/env bash
# The fuzz corpora (fuzz/corpus/TARGET).
#   fuzz/corpus.sh seed   adds the seeds: the samples' files by format, and
#                         the hostile shapes of issue 14 at a thousandth of
#                         their size (tests/fixtures/make-hostile-inputs.py --small)
#   fuzz/corpus.sh trim   after fuzzing: `cargo fuzz cmin`, then keeps the
#                         inputs under 4 KiB, the part committed and replayed
#                         by tests/all/robustness.rs in CI (the full corpora run
#                         to hundreds of megabytes; reseed and fuzz to regrow them)
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(cms_file cms_signed_data mail pdf_extract xml_package)

seed() {
  local t=$1 f=$2
  cp "$f" "fuzz/corpus/$t/$(sha1sum "$f" | cut -c1-40)"
}

case "${1:-}" in
  seed)
    for t in "${targets[@]}"; do mkdir -p "fuzz/corpus/$t"; done
    find samples/share -name '*.pdf' -size -100k | while read -r f; do seed pdf_extract "$f"; done
    find samples/share -name '*.p7[ms]' | while read -r f; do seed cms_file "$f"; seed cms_signed_data "$f"; done
    find samples/share \( -name '*.eml' -o -name '*.mbox' -o -path '*/Maildir/*' \) -type f | while read -r f; do seed mail "$f"; done
    find samples/share \( -name '*.xml' -o -name '*.docx' -o -name '*.odt' -o -name '*.ods' -o -name '*.zip' \) -size -200k | while read -r f; do seed xml_package "$f"; done
    shapes=$(mktemp -d)
    python3 tests/fixtures/make-hostile-inputs.py --small "$shapes" xml-namespaces xml-signatures zip-declared zip-duplicates \
      pdf-objects mbox-long-line mbox-large-message eml-large-header smime-large-base64
    seed pdf_extract "$shapes/pdf-objects/objects.pdf"
    for f in "$shapes"/mbox-*/* "$shapes"/eml-*/* "$shapes"/smime-*/*; do seed mail "$f"; done
    for f in "$shapes"/xml-*/* "$shapes"/zip-*/*; do seed xml_package "$f"; done
    rm -rf "$shapes"
    ;;
  trim)
    for t in "${targets[@]}"; do
      (cd fuzz && cargo fuzz cmin -s none -O "$t")
      find "fuzz/corpus/$t" -type f -size +4095c -delete
    done
    ;;
  *)
    echo "usage: fuzz/corpus.sh seed|trim" >&2
    exit 1
    ;;
esac
