#!/usr/bin/env bash
# The signing benchmark of docs/benchmarks.md: the 800-student demo year
# archived with every statement signed inside (PAdES-B-B, then B-T with a
# local TSA), the size each signature adds, and `tabel verify` of the
# signed bag. A throwaway test PKI is made with openssl in WORK.
#   bash bench/signing.sh [WORK]        (after `cargo build --release`)
set -euo pipefail
cd "$(dirname "$0")/.."
tabel=$PWD/target/release/tabel
work=${1:-/tmp/tabel-signing-bench}
rm -rf "$work" && mkdir -p "$work" && cd "$work"

# The test PKI: a root, the school's certificate, a TSA certificate.
cat > ca.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = bench CA
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
[signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
CNF
q() { openssl "$@" >/dev/null 2>&1; }
q req -x509 -new -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 365 -config ca.cnf -extensions ca
for n in school tsa; do
    ext=$([ $n = school ] && echo signer || echo tsa)
    q req -new -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/CN=bench $n"
    q x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 365 -extfile ca.cnf -extensions $ext
done
echo 01 > tsaserial
cat > tsa.cnf <<CNF
[tsa]
default_tsa = tsa1
[tsa1]
dir = $work
serial = $work/tsaserial
crypto_device = builtin
signer_cert = $work/tsa.pem
certs = $work/ca.pem
signer_key = $work/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
port=$((20000 + RANDOM % 20000))
python3 "$OLDPWD/bench/tsa.py" "$work/tsa.cnf" $port &
tsa_pid=$!
trap 'kill $tsa_pid' EXIT
sleep 1

"$tabel" archive keygen --out keys --unencrypted >/dev/null
"$tabel" --database sqlite://$work/year.db demo --date 2027-07-01 --no-serve >/dev/null
archive() {
    local out=$1; shift
    /usr/bin/time -f "    %e s wall, %M KB peak" "$tabel" --database sqlite://$work/year.db --output "$out" \
        archive --year 2026/2027 --key keys/tabel.key --date 2027-07-01 "$@" | sed 's/^/    /'
}
echo "unsigned:"; archive plain
echo "PAdES-B-B:"; archive bb --sign-pdf --pdf-cert school.pem --pdf-key school.key
echo "PAdES-B-T:"; archive bt --sign-pdf --pdf-cert school.pem --pdf-key school.key --tsa-url http://127.0.0.1:$port/tsr
n=$(find plain/archive/2026-2027/data -name '*.pdf' | wc -l)
plain=$(find plain/archive/2026-2027/data -name '*.pdf' -printf '%s\n' | paste -sd+ | bc)
for kind in bb bt; do
    signed=$(find $kind/archive/2026-2027/data -name '*.pdf' -printf '%s\n' | paste -sd+ | bc)
    echo "$kind: $n PDFs, $(( (signed - plain) / n )) bytes added per PDF"
done
echo "tabel verify of the B-T bag:"
/usr/bin/time -f "    %e s wall, %M KB peak" "$tabel" verify bt/archive/2026-2027 --pubkey keys/tabel.pub --trust ca.pem | tail -3 | sed 's/^/    /'
