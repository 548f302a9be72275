#!/usr/bin/env bash
# Cerniera's Kafka principals, topics and ACLs, with the official tools of the apache/kafka
# image (kafka-configs.sh, kafka-topics.sh, kafka-acls.sh). Safe to run again: users are
# upserted, topics created if missing, ACLs added (an ACL already there stays one ACL).
#
#   BOOTSTRAP=localhost:9094 AMBITI=deploy/config/ambiti.toml ./setup-acls.sh
#
# Every principal is a SCRAM-SHA-512 user; every ACL names one topic literally (never a
# prefix), so a principal reads and writes exactly the topics listed below and nothing else:
#
#   cerniera-intake       READ  hospital.discharges, monitoring.cases   WRITE intake.cases
#   cerniera-activation   READ  hospital.discharges, intake.cases, monitoring.cases,
#                               providers.reports.<p> (each provider)
#                         WRITE activation.services, activation.requests.<p> (each provider)
#   cerniera-monitoring   READ  intake.cases, hospital.discharges, activation.services
#                         WRITE monitoring.cases
#   cerniera-billing      READ  intake.cases, activation.services, monitoring.cases,
#                               providers.reports.<p> (each)     WRITE billing.ledger
#   cerniera-gateway      READ  intake.cases, monitoring.cases, activation.services
#                         WRITE hospital.discharges
#   cerniera-desk         READ  every topic: the shared ones, activation.requests.<p> and
#                               providers.reports.<p> (each provider)
#                         WRITE providers.reports.<p> (each provider of PORTAL_PROVIDERS: the
#                               portal answers and reports for a provider without a system)
#   provider-<p>          READ  activation.requests.<p>          WRITE providers.reports.<p>
#   hospital-<h>          WRITE hospital.discharges (only for HOSPITALS sending CloudEvents
#                         straight to Kafka; the gateway is the door that checks who sends)
#   cerniera-operator     READ  every topic and dead-letter topic (cerniera watch)
#                         WRITE every topic (cerniera dlq replay sends dead letters back)
#
# Each service also WRITEs the dead-letter topic (<topic>.dlq) of every topic it READs, and
# READs its consumer group (the service's name; provider-adapter.<p> for a provider). READ
# and WRITE imply DESCRIBE in Kafka's authorizer: no DESCRIBE ACL is needed besides them.
# A provider's adapter is refused another provider's requests: they are on another topic,
# which its user has no ACL for (docs/security.md).
#
# Topics (their names under TOPIC_PREFIX): the contract's, each per-provider family once per
# provider (Topics.all(providers) in shared/src/cerniera/shared/contract/topics.py), every one
# with its dead-letter topic. A dead-letter topic keeps its records exactly as long as its
# source topic (RETENTION_MS for both): a dead letter must still be there when the cause is
# fixed and it is replayed, and must not outlive the personal data of the topic it came from.
#
# Environment:
#   BOOTSTRAP            an admin listener (default localhost:9094: the compose broker's
#                        loopback-only PLAINTEXT listener, whose anonymous user is super user)
#   COMMAND_CONFIG       client properties for an authenticated admin (SASL_SSL, ...), if any
#   TOPIC_PREFIX         default dp.
#   PROVIDERS            provider ids, space-separated; default: every provider of AMBITI
#   AMBITI               the districts' configuration (ambiti.toml) to read the providers from
#   PORTAL_PROVIDERS     the providers the desk's portal writes reports for, space-separated,
#                        each one of PROVIDERS, or "none"; default: every provider. In
#                        production list only those without a system of their own: the desk
#                        may write as each one listed (docs/security.md, "Desk")
#   HOSPITALS            hospital ids given a Kafka user of their own (default none)
#   PARTITIONS           default 6;  REPLICATION_FACTOR  default 3
#   RETENTION_MS         default 604800000 (7 days, Kafka's default)
#   PASSWORD_<USER>      each user's password: the user name upper-cased, '-' and '.' as '_'
#                        (PASSWORD_CERNIERA_INTAKE, PASSWORD_PROVIDER_COOP_IL_MELOGRANO). A user
#                        without one gets its topics and ACLs but no credentials (no login).
#   DRY_RUN=1            print the commands (passwords masked) instead of running them
#   KAFKA_BIN            default /opt/kafka/bin
#
# Removing is not done here: a provider that leaves keeps its ACLs until
# `kafka-acls.sh --remove --principal User:provider-<p> ...` and
# `kafka-configs.sh --alter --delete-config SCRAM-SHA-512 --entity-type users ...`.
set -euo pipefail

BOOTSTRAP=${BOOTSTRAP:-localhost:9094}
TOPIC_PREFIX=${TOPIC_PREFIX-dp.}
PARTITIONS=${PARTITIONS:-6}
REPLICATION_FACTOR=${REPLICATION_FACTOR:-3}
RETENTION_MS=${RETENTION_MS:-604800000}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
HOSPITALS=${HOSPITALS:-}
DLQ=.dlq
# The contract's topics but the two per-provider families (TOPIC_NAMES less PER_PROVIDER_TOPICS
# in shared/src/cerniera/shared/contract/events.py).
SHARED_TOPICS=(hospital.discharges intake.cases activation.services monitoring.cases
               billing.ledger)
NAME_RE='^[A-Za-z0-9._-]+$'
UNSAFE_PASSWORD="[]=,[:space:]'\"[]"

admin=(--bootstrap-server "$BOOTSTRAP")
[[ -n ${COMMAND_CONFIG:-} ]] && admin+=(--command-config "$COMMAND_CONFIG")

run() {
  if [[ -n ${DRY_RUN:-} ]]; then
    printf '%q ' "$@" | sed -E 's/password=[^],]*/password=***/'
    echo
  else
    "$@"
  fi
}

providers_of() {  # the id of every [[ambiti.<x>.providers]] table of an ambiti.toml
  awk '/^\[\[ambiti\.[^]]*\.providers\]\]/ { wanted = 1; next }
       /^\[/ { wanted = 0 }
       wanted && /^id *=/ { sub(/^id *= *"/, ""); sub(/".*/, ""); print }' "$1" | sort -u
}

if [[ -z ${PROVIDERS:-} && -n ${AMBITI:-} ]]; then
  PROVIDERS=$(providers_of "$AMBITI" | tr '\n' ' ')
fi
read -r -a providers <<< "${PROVIDERS:-}"
read -r -a hospitals <<< "$HOSPITALS"
if (( ${#providers[@]} == 0 )); then
  echo "setup-acls: no providers (set PROVIDERS or AMBITI)" >&2
  exit 2
fi
for id in "${providers[@]}" "${hospitals[@]}"; do
  [[ $id =~ $NAME_RE ]] || { echo "setup-acls: invalid id '$id'" >&2; exit 2; }
done
portal_providers=()
if [[ ${PORTAL_PROVIDERS:-} != none ]]; then
  read -r -a portal_providers <<< "${PORTAL_PROVIDERS:-${providers[*]}}"
fi
for id in "${portal_providers[@]}"; do  # a portal provider must have its topics created here
  [[ " ${providers[*]} " == *" $id "* ]] || {
    echo "setup-acls: PORTAL_PROVIDERS: '$id' is not one of the providers" >&2; exit 2; }
done

t() { printf '%s%s' "$TOPIC_PREFIX" "$1"; }  # a topic's full name
each_provider() {  # "providers.reports" -> every provider's providers.reports.<p>, full names
  local p
  for p in "${providers[@]}"; do t "$1.$p"; echo; done
}

# --- users -----------------------------------------------------------------------------------
scram_user() {
  local user=$1 var password
  var="PASSWORD_$(tr 'a-z.-' 'A-Z__' <<< "$user")"
  password=${!var:-}
  if [[ -z $password ]]; then
    echo "setup-acls: no $var: user $user gets its ACLs but no credentials" >&2
    return
  fi
  # kafka-configs.sh reads the value as [key=value,...]: these characters would break it.
  if [[ $password =~ $UNSAFE_PASSWORD ]]; then
    echo "setup-acls: $var contains one of ], [ = , quotes or spaces" >&2
    exit 2
  fi
  run "$KAFKA_BIN/kafka-configs.sh" "${admin[@]}" --alter --entity-type users \
    --entity-name "$user" --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]"
}

# --- topics ----------------------------------------------------------------------------------
all_topics=()
for name in "${SHARED_TOPICS[@]}"; do all_topics+=("$(t "$name")"); done
for p in "${providers[@]}"; do
  all_topics+=("$(t "activation.requests.$p")" "$(t "providers.reports.$p")")
done

existing=" "
if [[ -z ${DRY_RUN:-} ]]; then
  existing=" $("$KAFKA_BIN/kafka-topics.sh" "${admin[@]}" --list | tr '\n' ' ') "
fi

topic() {  # create if missing, else set the retention: the same for the topic and its .dlq
  local name
  for name in "$1" "$1$DLQ"; do
    if [[ $existing == *" $name "* ]]; then
      run "$KAFKA_BIN/kafka-configs.sh" "${admin[@]}" --alter --entity-type topics \
        --entity-name "$name" --add-config "retention.ms=$RETENTION_MS"
    else
      run "$KAFKA_BIN/kafka-topics.sh" "${admin[@]}" --create --if-not-exists --topic "$name" \
        --partitions "$PARTITIONS" --replication-factor "$REPLICATION_FACTOR" \
        --config "retention.ms=$RETENTION_MS"
    fi
  done
}

# --- ACLs ------------------------------------------------------------------------------------
# One kafka-acls.sh per principal and operation: each topic named literally. An idempotent
# producer needs nothing more than WRITE on a topic (Kafka 2.8+, KIP-679; no IdempotentWrite).
acl() {  # acl USER OPERATION [--group G] TOPIC...
  local user=$1 operation=$2 args=() name
  shift 2
  if [[ ${1:-} == --group ]]; then args+=(--group "$2"); shift 2; fi
  for name in "$@"; do args+=(--topic "$name"); done
  (( ${#args[@]} )) || return 0
  run "$KAFKA_BIN/kafka-acls.sh" "${admin[@]}" --add --allow-principal "User:$user" \
    --operation "$operation" --resource-pattern-type literal "${args[@]}"
}

consumer() {  # consumer USER GROUP "READ TOPICS" "WRITE TOPICS": READ on the group too
  local user=$1 group_id=$2 reads writes dlqs=() name
  read -r -a reads <<< "$3"
  read -r -a writes <<< "$4"
  for name in "${reads[@]}"; do dlqs+=("$name$DLQ"); done
  scram_user "$user"
  acl "$user" Read --group "$group_id" "${reads[@]}"
  acl "$user" Write "${writes[@]}" "${dlqs[@]}"
}

for name in "${all_topics[@]}"; do topic "$name"; done

reports=$(each_provider providers.reports | tr '\n' ' ')
requests=$(each_provider activation.requests | tr '\n' ' ')

consumer cerniera-intake intake \
  "$(t hospital.discharges) $(t monitoring.cases)" \
  "$(t intake.cases)"
consumer cerniera-activation activation \
  "$(t hospital.discharges) $(t intake.cases) $(t monitoring.cases) $reports" \
  "$(t activation.services) $requests"
consumer cerniera-monitoring monitoring \
  "$(t intake.cases) $(t hospital.discharges) $(t activation.services)" \
  "$(t monitoring.cases)"
consumer cerniera-billing billing \
  "$(t intake.cases) $(t activation.services) $reports $(t monitoring.cases)" \
  "$(t billing.ledger)"
consumer cerniera-gateway gateway \
  "$(t intake.cases) $(t monitoring.cases) $(t activation.services)" \
  "$(t hospital.discharges)"
# The desk's read model is made of every topic (service.every_topic: Topics.all(providers));
# its portal publishes a provider's answers and deliveries on that provider's report topic.
portal_reports=""
for p in "${portal_providers[@]}"; do portal_reports+="$(t "providers.reports.$p") "; done
consumer cerniera-desk desk \
  "${all_topics[*]}" \
  "$portal_reports"

for p in "${providers[@]}"; do
  # The reference adapter's group for one provider (adapters/provider: default_group_id).
  # It dead-letters nothing, so no .dlq.
  scram_user "provider-$p"
  acl "provider-$p" Read --group "provider-adapter.$p" "$(t "activation.requests.$p")"
  acl "provider-$p" Write "$(t "providers.reports.$p")"
done

for h in "${hospitals[@]}"; do
  scram_user "hospital-$h"
  acl "hospital-$h" Write "$(t hospital.discharges)"
done

# The operator's tools: read everything, send dead letters back to their topic. Its consumer
# groups (optional: `cerniera watch` reads without one) start with cerniera-operator.
dlq_topics=()
for name in "${all_topics[@]}"; do dlq_topics+=("$name$DLQ"); done
scram_user cerniera-operator
acl cerniera-operator Read "${all_topics[@]}" "${dlq_topics[@]}"
acl cerniera-operator Write "${all_topics[@]}"
run "$KAFKA_BIN/kafka-acls.sh" "${admin[@]}" --add --allow-principal User:cerniera-operator \
  --operation Read --group cerniera-operator --resource-pattern-type prefixed

echo "setup-acls: done: ${#all_topics[@]} topics with their dead-letter topics; ACLs of" \
  "the services, the operator, providers: ${#providers[@]}, hospitals: ${#hospitals[@]}"
