#!/bin/sh
# Makes the throwaway GnuPG keys that dsar must refuse as recipients (see
# README.md). Usage: gen.sh OUTDIR. Needs gpg (GnuPG 2.2); takes about a second.
set -eu
out=${1:?usage: gen.sh OUTDIR}
mkdir -p "$out"
GNUPGHOME=$(mktemp -d "${TMPDIR:-/tmp}/dsar-gen.XXXXXX")
export GNUPGHOME
trap 'gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null || true; rm -rf "$GNUPGHOME"' EXIT
gpg="gpg --batch --no-tty --quiet --trust-model always --pinentry-mode loopback --passphrase="

# fpr UID: the fingerprint of the key with user id UID.
fpr() { gpg --batch --with-colons --list-keys "=$1" | awk -F: '$1 == "fpr" { print $10; exit }'; }
export_key() { gpg --batch --armor --export "$(fpr "$1")" >"$out/$2.pub.asc"; }

# A current Ed25519/Cv25519 key: accepted (the control).
$gpg --quick-gen-key 'Good <good@example.org>' ed25519 default never
$gpg --quick-add-key "$(fpr 'Good <good@example.org>')" cv25519 encr never
export_key 'Good <good@example.org>' good

# RSA 1024: too short.
$gpg --quick-gen-key 'RSA 1024 <rsa1024@example.org>' rsa1024 sign,cert never
$gpg --quick-add-key "$(fpr 'RSA 1024 <rsa1024@example.org>')" rsa1024 encr never
export_key 'RSA 1024 <rsa1024@example.org>' rsa1024

# DSA primary key with an ElGamal encryption subkey: deprecated algorithms.
$gpg --full-gen-key /dev/stdin <<PARAMS
%no-protection
Key-Type: DSA
Key-Length: 2048
Key-Usage: sign
Subkey-Type: ELG-E
Subkey-Length: 2048
Subkey-Usage: encrypt
Name-Real: DSA ElGamal
Name-Email: dsa@example.org
Expire-Date: 0
%commit
PARAMS
export_key 'DSA ElGamal <dsa@example.org>' dsa-elgamal

# Made on 2020-01-01 to expire after a year.
$gpg --faked-system-time 20200101T000000! --quick-gen-key 'Expired <expired@example.org>' ed25519 default 1y 2>/dev/null
$gpg --faked-system-time 20200101T000000! --quick-add-key "$(fpr 'Expired <expired@example.org>')" cv25519 encr 1y 2>/dev/null
export_key 'Expired <expired@example.org>' expired

# Revoked with the revocation certificate GnuPG makes with every key.
$gpg --quick-gen-key 'Revoked <revoked@example.org>' ed25519 default never
f=$(fpr 'Revoked <revoked@example.org>')
$gpg --quick-add-key "$f" cv25519 encr never
sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/$f.rev" | $gpg --import 2>/dev/null
export_key 'Revoked <revoked@example.org>' revoked

# Self-signatures (user ID and subkey binding) made with SHA-1.
$gpg --cert-digest-algo SHA1 --quick-gen-key 'SHA-1 <sha1@example.org>' rsa2048 sign,cert never
$gpg --cert-digest-algo SHA1 --quick-add-key "$(fpr 'SHA-1 <sha1@example.org>')" rsa2048 encr never
export_key 'SHA-1 <sha1@example.org>' sha1

# A signing key without any encryption subkey.
$gpg --quick-gen-key 'Sign only <signonly@example.org>' ed25519 sign,cert never
export_key 'Sign only <signonly@example.org>' signonly
