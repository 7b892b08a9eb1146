#!/usr/bin/env bash
# Development PKI for Hoadon: DEVELOPMENT AND TESTS ONLY, NEVER PRODUCTION.
# Every private key written here is public (it sits in the repository).
#
# Regenerates every certificate, key and CRL this script owns in certs/ (see certs/README.md).
# Idempotent: each run rewrites the same file names from scratch (fresh keys, random serials).
# After a run, regenerate the signed fixtures too: `npm run fixtures`.
#
# Only openssl is used. Validity periods are exact (`openssl ca -startdate/-enddate`), because
# OpenSSL 3.0's `x509 -req` and `req -x509` cannot set notBefore.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
OUT="$PWD"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

START=260101000000Z # 2026-01-01T00:00:00Z
END=360101000000Z   # 2036-01-01T00:00:00Z

OWNED=(
  root-ca.pem root-ca.key issuing-ca.pem issuing-ca.key trust-anchors.pem intermediates.pem
  seller-0100000010-rsa.pem seller-0100000010-rsa.key
  seller-0310000024-ec.pem seller-0310000024-ec.key
  seller-0100000010-ec.pem seller-0100000010-ec.key
  seller-0100000010-expired.pem seller-0100000010-expired.key
  seller-0100000010-notyet.pem seller-0100000010-notyet.key
  seller-0100000010-nokeyusage.pem seller-0100000010-nokeyusage.key
  seller-0100000010-branch.pem seller-0100000010-branch.key
  seller-0100000010-revoked.pem seller-0100000010-revoked.key
  seller-0100000010-ca.pem seller-0100000010-ca.key
  untrusted-root-ca.pem untrusted-root-ca.key
  untrusted-seller-0100000010.pem untrusted-seller-0100000010.key
  issuing-ca.crl.pem issuing-ca.crl.der
)
for f in "${OWNED[@]}"; do rm -f "$OUT/$f"; done

SELLER_10="CÔNG TY TNHH THỬ NGHIỆM HÓA ĐƠN HÀ NỘI"
SELLER_24="CÔNG TY CỔ PHẦN THỬ NGHIỆM HÓA ĐƠN SÀI GÒN"

cat >"$WORK/openssl.cnf" <<'CNF'
# Throwaway configuration: one database per CA, selected by $ENV::CADIR.
[ ca ]
default_ca = ca_dev

[ ca_dev ]
dir             = $ENV::CADIR
database        = $dir/index.txt
new_certs_dir   = $dir/newcerts
serial          = $dir/serial
crlnumber       = $dir/crlnumber
default_md      = sha256
default_crl_days = 3650
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no
string_mask     = utf8only

[ policy_any ]
countryName            = optional
organizationName       = optional
commonName             = supplied
userId                 = optional

[ req ]
distinguished_name = req_dn
string_mask        = utf8only
prompt             = no
utf8               = yes

[ req_dn ]
CN = placeholder

[ ext_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_issuing ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_seller ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, nonRepudiation
extendedKeyUsage       = clientAuth, emailProtection
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_seller_nokeyusage ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyEncipherment
extendedKeyUsage       = clientAuth, emailProtection
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_seller_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_crl ]
authorityKeyIdentifier = keyid:always
CNF
export OPENSSL_CONF="$WORK/openssl.cnf"
export CADIR="$WORK/root" # every command reads the file, so the variable must always be set

# newca NAME: an empty CA database in $WORK/NAME.
newca() {
  mkdir -p "$WORK/$1/newcerts"
  : >"$WORK/$1/index.txt"
  echo 1000 >"$WORK/$1/serial"
  echo 1000 >"$WORK/$1/crlnumber"
}

# genkey FILE rsa BITS | genkey FILE ec: unencrypted PKCS#8 PEM.
genkey() {
  case "$2" in
    rsa) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" -out "$1" 2>/dev/null ;;
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
  esac
}

# issue CA-NAME CA-BASENAME|-selfsign KEY SUBJECT EXT START END OUT
issue() {
  local caname=$1 ca=$2 key=$3 subj=$4 ext=$5 start=$6 end=$7 out=$8
  local csr="$WORK/$(basename "$out").csr"
  openssl req -new -utf8 -key "$key" -subj "$subj" -out "$csr"
  local signer
  if [ "$ca" = "-selfsign" ]; then
    signer=(-selfsign -keyfile "$key")
  else
    signer=(-cert "$OUT/$ca.pem" -keyfile "$OUT/$ca.key")
  fi
  CADIR="$WORK/$caname" openssl ca -batch -notext -utf8 -preserveDN -rand_serial -md sha256 \
    "${signer[@]}" -in "$csr" -out "$out" -extensions "$ext" \
    -startdate "$start" -enddate "$end" 2>"$WORK/ca.log" || { cat "$WORK/ca.log" >&2; exit 1; }
}

seller_subj() { # NAME UID-VALUE
  printf '/C=VN/O=%s/CN=%s/UID=%s' "$1" "$1" "$2"
}

# --- the development trust anchor and its issuing CA
newca root
newca issuing
genkey "$OUT/root-ca.key" rsa 3072
issue root -selfsign "$OUT/root-ca.key" "/C=VN/O=Hoadon Development (NOT FOR PRODUCTION)/CN=Hoadon Dev Root CA" \
  ext_root "$START" "$END" "$OUT/root-ca.pem"
genkey "$OUT/issuing-ca.key" rsa 2048
issue root root-ca "$OUT/issuing-ca.key" "/C=VN/O=Hoadon Development (NOT FOR PRODUCTION)/CN=Hoadon Dev Issuing CA" \
  ext_issuing "$START" "$END" "$OUT/issuing-ca.pem"
cp "$OUT/root-ca.pem" "$OUT/trust-anchors.pem"
cp "$OUT/issuing-ca.pem" "$OUT/intermediates.pem"

# --- sellers
genkey "$OUT/seller-0100000010-rsa.key" rsa 2048
issue issuing issuing-ca "$OUT/seller-0100000010-rsa.key" "$(seller_subj "$SELLER_10" MST:0100000010)" \
  ext_seller "$START" "$END" "$OUT/seller-0100000010-rsa.pem"
genkey "$OUT/seller-0310000024-ec.key" ec
issue issuing issuing-ca "$OUT/seller-0310000024-ec.key" "$(seller_subj "$SELLER_24" MST:0310000024)" \
  ext_seller "$START" "$END" "$OUT/seller-0310000024-ec.pem"
# Seller 0100000010's second key, P-256: the load tests sign with P-256 only (k6 signs RSA-2048 slowly).
genkey "$OUT/seller-0100000010-ec.key" ec
issue issuing issuing-ca "$OUT/seller-0100000010-ec.key" "$(seller_subj "$SELLER_10" MST:0100000010)" \
  ext_seller "$START" "$END" "$OUT/seller-0100000010-ec.pem"

# --- certificates for attack tests (all MST 0100000010, RSA-2048)
attack() { # SUFFIX EXT START END UID
  genkey "$OUT/seller-0100000010-$1.key" rsa 2048
  issue issuing issuing-ca "$OUT/seller-0100000010-$1.key" "$(seller_subj "$SELLER_10" "$5")" \
    "$2" "$3" "$4" "$OUT/seller-0100000010-$1.pem"
}
attack expired ext_seller 200101000000Z 210101000000Z MST:0100000010
attack notyet ext_seller 350601000000Z "$END" MST:0100000010
attack nokeyusage ext_seller_nokeyusage "$START" "$END" MST:0100000010
attack branch ext_seller "$START" "$END" MST:0100000010-001
attack revoked ext_seller "$START" "$END" MST:0100000010
attack ca ext_seller_ca "$START" "$END" MST:0100000010

# --- a root nobody trusts, and a seller under it
newca untrusted
genkey "$OUT/untrusted-root-ca.key" rsa 2048
issue untrusted -selfsign "$OUT/untrusted-root-ca.key" "/C=VN/O=Hoadon Untrusted (NOT A TRUST ANCHOR)/CN=Hoadon Untrusted Root CA" \
  ext_root "$START" "$END" "$OUT/untrusted-root-ca.pem"
genkey "$OUT/untrusted-seller-0100000010.key" rsa 2048
issue untrusted untrusted-root-ca "$OUT/untrusted-seller-0100000010.key" "$(seller_subj "$SELLER_10" MST:0100000010)" \
  ext_seller "$START" "$END" "$OUT/untrusted-seller-0100000010.pem"

# --- the issuing CA's CRL: revokes seller-0100000010-revoked (keyCompromise)
CADIR="$WORK/issuing" openssl ca -batch -cert "$OUT/issuing-ca.pem" -keyfile "$OUT/issuing-ca.key" \
  -revoke "$OUT/seller-0100000010-revoked.pem" -crl_reason keyCompromise 2>"$WORK/ca.log" || { cat "$WORK/ca.log" >&2; exit 1; }
# `ca -revoke` stamps "now" as the revocation date; pin it to the start of the validity period so
# the certificate counts as revoked at any signing time the tests use (index.txt column 3).
awk -F'\t' 'BEGIN { OFS = "\t" } $1 == "R" { split($3, a, ","); $3 = "'"$START"'" (a[2] != "" ? "," a[2] : "") } { print }' \
  "$WORK/issuing/index.txt" >"$WORK/index.new" && mv "$WORK/index.new" "$WORK/issuing/index.txt"
CADIR="$WORK/issuing" openssl ca -batch -gencrl -cert "$OUT/issuing-ca.pem" -keyfile "$OUT/issuing-ca.key" \
  -md sha256 -crlexts ext_crl -crl_lastupdate "$START" -crl_nextupdate "$END" -out "$OUT/issuing-ca.crl.pem" 2>"$WORK/ca.log" \
  || { cat "$WORK/ca.log" >&2; exit 1; }
openssl crl -in "$OUT/issuing-ca.crl.pem" -outform DER -out "$OUT/issuing-ca.crl.der"

# --- self-checks: chains, UID in the subject, the CRL
verify() { openssl verify -attime "$(date -u -d 2026-06-01 +%s)" "$@"; }
verify -CAfile "$OUT/root-ca.pem" "$OUT/issuing-ca.pem" >/dev/null
for f in seller-0100000010-rsa seller-0100000010-ec seller-0310000024-ec seller-0100000010-nokeyusage seller-0100000010-branch \
  seller-0100000010-revoked seller-0100000010-ca; do
  verify -CAfile "$OUT/root-ca.pem" -untrusted "$OUT/issuing-ca.pem" "$OUT/$f.pem" >/dev/null
done
# expect_error PATTERN ARGS...: openssl verify must fail with that message.
expect_error() {
  local pattern=$1 out; shift
  if out=$("$@" 2>&1); then echo "make-certs: expected a failure ($pattern) from: $*" >&2; exit 1; fi
  grep -q "$pattern" <<<"$out" || { echo "make-certs: expected '$pattern', got: $out" >&2; exit 1; }
}
expect_error "error 10 at 0 depth lookup: certificate has expired" \
  verify -CAfile "$OUT/root-ca.pem" -untrusted "$OUT/issuing-ca.pem" "$OUT/seller-0100000010-expired.pem"
expect_error "error 9 at 0 depth lookup: certificate is not yet valid" \
  verify -CAfile "$OUT/root-ca.pem" -untrusted "$OUT/issuing-ca.pem" "$OUT/seller-0100000010-notyet.pem"
openssl verify -attime "$(date -u -d 2035-07-01 +%s)" -CAfile "$OUT/root-ca.pem" -untrusted "$OUT/issuing-ca.pem" \
  "$OUT/seller-0100000010-notyet.pem" >/dev/null
expect_error "error 23 at 0 depth lookup: certificate revoked" \
  verify -CAfile "$OUT/root-ca.pem" -untrusted "$OUT/issuing-ca.pem" -crl_check -CRLfile "$OUT/issuing-ca.crl.pem" \
  "$OUT/seller-0100000010-revoked.pem"
verify -CAfile "$OUT/root-ca.pem" -untrusted "$OUT/issuing-ca.pem" -crl_check -CRLfile "$OUT/issuing-ca.crl.pem" \
  "$OUT/seller-0100000010-rsa.pem" >/dev/null
verify -CAfile "$OUT/untrusted-root-ca.pem" "$OUT/untrusted-seller-0100000010.pem" >/dev/null
expect_error "unable to get local issuer certificate" \
  verify -CAfile "$OUT/root-ca.pem" -untrusted "$OUT/issuing-ca.pem" "$OUT/untrusted-seller-0100000010.pem"
openssl x509 -in "$OUT/seller-0100000010-rsa.pem" -noout -subject -nameopt RFC2253,-esc_msb | grep -q 'UID=MST:0100000010,'
openssl x509 -in "$OUT/seller-0100000010-branch.pem" -noout -subject -nameopt RFC2253,-esc_msb | grep -q 'UID=MST:0100000010-001,'
openssl x509 -in "$OUT/seller-0310000024-ec.pem" -noout -subject -nameopt RFC2253,-esc_msb | grep -q 'UID=MST:0310000024,'
openssl asn1parse -in "$OUT/seller-0100000010-rsa.pem" | grep -A1 ':userId$' | grep -q 'UTF8STRING *:MST:0100000010$'

echo "make-certs: wrote ${#OWNED[@]} files to $OUT"
