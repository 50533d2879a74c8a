#!/bin/sh
# Turns etcd auth on, once, for the fleet: a root user, and a user `gateway` that may read and
# write only the fleet's prefix (the plan, audit, registry, election, rollout progress). Run it
# with etcdctl v3 against the cluster as root, through ETCDCTL_* variables, e.g. on Kubernetes:
#
#   kubectl -n mythoughts port-forward pod/etcd-0 2379:2379 &
#   ETCDCTL_ENDPOINTS=https://127.0.0.1:2379 ETCDCTL_CACERT=DIR/etcd-ca.crt \
#   ETCDCTL_CERT=DIR/etcd-root.crt ETCDCTL_KEY=DIR/etcd-root.key \
#     deploy/etcd/enable-auth.sh DIR [/mythoughts/]
#
# DIR holds etcd-root-password and gateway-etcd-password (deploy/etcd/make-certs.sh makes them).
# After it, a client needs a certificate from the CA (--client-cert-auth) AND a user: the
# gateways log in as `gateway` (GATEWAY_ETCD_USERNAME, GATEWAY_ETCD_PASSWORD_FILE).
set -eu
dir=${1:?usage: enable-auth.sh DIR [PREFIX]}
prefix=${2:-/mythoughts/}
export ETCDCTL_API=3
etcdctl user add root --new-user-password="$(cat "$dir/etcd-root-password")"
etcdctl user grant-role root root
etcdctl role add fleet
etcdctl role grant-permission fleet --prefix=true readwrite "$prefix"
etcdctl user add gateway --new-user-password="$(cat "$dir/gateway-etcd-password")"
etcdctl user grant-role gateway fleet
etcdctl auth enable
