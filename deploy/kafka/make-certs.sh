#!/usr/bin/env bash
# Development TLS for the compose broker: a throw-away CA and the broker's certificate for the
# names clients use (kafka, localhost). keytool only: the apache/kafka image has no openssl.
#
#   SECRETS_DIR  the broker's keystore and its password files (mounted at /etc/kafka/secrets,
#                where the image's start-up script looks for them)
#   CA_DIR       ca.crt, the CA the clients trust (KAFKA_SSL_CAFILE)
#   BROKER_HOSTS the certificate's DNS names, comma-separated (default kafka,localhost)
#
# Run once: an existing keystore is kept. In production the certificates come from your PKI
# or from Strimzi's cluster CA, never from this script.
set -euo pipefail

SECRETS_DIR=${SECRETS_DIR:-/etc/kafka/secrets}
CA_DIR=${CA_DIR:-/etc/kafka/ca}
BROKER_HOSTS=${BROKER_HOSTS:-kafka,localhost}
DAYS=825

if [[ -s $SECRETS_DIR/kafka.p12 && -s $CA_DIR/ca.crt ]]; then
  echo "make-certs: $SECRETS_DIR/kafka.p12 and $CA_DIR/ca.crt exist, kept"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
san=$(IFS=,; for host in $BROKER_HOSTS; do printf 'dns:%s,' "$host"; done)
san=${san%,}
rm -f "$SECRETS_DIR/kafka.p12"

# The CA: its key never leaves $work, so nothing else can be signed with it later.
keytool -genkeypair -alias ca -dname "CN=Cerniera development CA" -keyalg RSA -keysize 3072 \
  -validity "$DAYS" -ext bc:c=ca:true -ext ku:c=keyCertSign,cRLSign \
  -keystore "$work/ca.p12" -storetype PKCS12 -storepass "$pass"
keytool -exportcert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$pass" \
  -file "$CA_DIR/ca.crt"

# The broker's key, its certificate signed by the CA, and the chain in one PKCS12 keystore.
keytool -genkeypair -alias kafka -dname "CN=kafka" -keyalg RSA -keysize 3072 \
  -validity "$DAYS" -keystore "$SECRETS_DIR/kafka.p12" -storetype PKCS12 -storepass "$pass"
keytool -certreq -alias kafka -keystore "$SECRETS_DIR/kafka.p12" -storepass "$pass" \
  -file "$work/kafka.csr"
keytool -gencert -alias ca -keystore "$work/ca.p12" -storepass "$pass" -rfc \
  -infile "$work/kafka.csr" -outfile "$work/kafka.crt" -validity "$DAYS" \
  -ext "san=$san" -ext ku:c=digitalSignature,keyEncipherment -ext eku=serverAuth
keytool -importcert -noprompt -alias ca -file "$CA_DIR/ca.crt" \
  -keystore "$SECRETS_DIR/kafka.p12" -storepass "$pass"
keytool -importcert -alias kafka -file "$work/kafka.crt" \
  -keystore "$SECRETS_DIR/kafka.p12" -storepass "$pass"

# The image reads the passwords from these files (KAFKA_SSL_*_CREDENTIALS); in PKCS12 the
# key's password is the store's.
printf '%s' "$pass" > "$SECRETS_DIR/keystore_creds"
printf '%s' "$pass" > "$SECRETS_DIR/key_creds"
chown appuser "$SECRETS_DIR/kafka.p12" "$SECRETS_DIR/keystore_creds" "$SECRETS_DIR/key_creds"
chmod 0600 "$SECRETS_DIR/kafka.p12" "$SECRETS_DIR/keystore_creds" "$SECRETS_DIR/key_creds"
chmod 0644 "$CA_DIR/ca.crt"
echo "make-certs: CA in $CA_DIR/ca.crt, broker keystore for $san in $SECRETS_DIR/kafka.p12"
