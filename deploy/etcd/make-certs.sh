#!/bin/sh
# Makes what deploy/k8s's etcd and gateways need to talk TLS with client certificates, with
# openssl, in OUT_DIR: a CA (etcd-ca.crt/.key: keep the key offline), the members' server and
# peer certificates (names *.SERVICE.NAMESPACE.svc[.cluster.local], SERVICE.NAMESPACE.svc,
# localhost, 127.0.0.1), a client certificate for the gateways (CN gateway) and one for the
# etcd root user (CN root, for enable-auth.sh), and the passwords of both users. Your own PKI
# (cert-manager, Vault) does as well: the Secrets in deploy/k8s/secrets.example.yaml say what
# goes where.
#
#   deploy/etcd/make-certs.sh OUT_DIR [NAMESPACE] [SERVICE]      (defaults: mythoughts etcd)
set -eu
out=${1:?usage: make-certs.sh OUT_DIR [NAMESPACE] [SERVICE]}
namespace=${2:-mythoughts}
service=${3:-etcd}
mkdir -p "$out"
cd "$out"
umask 077
names="DNS:*.$service.$namespace.svc,DNS:*.$service.$namespace.svc.cluster.local,DNS:$service.$namespace.svc,DNS:localhost,IP:127.0.0.1"

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$namespace-etcd-ca" \
  -keyout etcd-ca.key -out etcd-ca.crt 2>/dev/null

# sign NAME CN EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
sign() {
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'extendedKeyUsage=%s\n' "$3" > "$1.ext"
  if [ -n "${4:-}" ]; then printf 'subjectAltName=%s\n' "$4" >> "$1.ext"; fi
  openssl x509 -req -sha256 -days 825 -in "$1.csr" -CA etcd-ca.crt -CAkey etcd-ca.key -CAcreateserial \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign etcd-server etcd-server serverAuth "$names"
sign etcd-peer etcd-peer serverAuth,clientAuth "$names"
# With --client-cert-auth and auth enabled, a certificate's CN names the etcd user it logs in as.
sign gateway-etcd gateway clientAuth
sign etcd-root root clientAuth
for user in gateway-etcd etcd-root; do openssl rand -hex 24 > "$user-password"; done
# The certificates are public; the keys and passwords readable by their owner only.
chmod 644 ./*.crt
echo "made in $out: etcd-ca.crt etcd-server.{crt,key} etcd-peer.{crt,key} gateway-etcd.{crt,key} gateway-etcd-password etcd-root.{crt,key} etcd-root-password"
