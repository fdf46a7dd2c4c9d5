#!/bin/sh
# Render the aidetect nginx config from its template, then run the given command
# (nginx -g 'daemon off;'). Works on the official nginx image and on Debian's nginx
# alike: it does not depend on the official /docker-entrypoint.sh.
set -eu

: "${NGINX_PORT:=80}"
: "${BACKEND_URL:=http://backend:8000}"
: "${BACKEND_URLS:=$BACKEND_URL}"
: "${NGINX_UPSTREAM_TRIES:=2}"
: "${NGINX_UPSTREAM_MAX_FAILS:=2}"
: "${NGINX_UPSTREAM_FAIL_TIMEOUT:=10s}"
: "${NGINX_MAX_BODY:=30m}"
: "${NGINX_MAX_BATCH_BODY:=200m}"
: "${NGINX_HEADER_TIMEOUT:=5s}"
: "${NGINX_BODY_TIMEOUT:=30s}"
: "${NGINX_KEEPALIVE_TIMEOUT:=15s}"
: "${NGINX_CONN_PER_IP:=64}"
export NGINX_PORT NGINX_MAX_BODY NGINX_MAX_BATCH_BODY \
  NGINX_HEADER_TIMEOUT NGINX_BODY_TIMEOUT NGINX_KEEPALIVE_TIMEOUT NGINX_UPSTREAM_TRIES

# limit_conn takes a positive number: 0 leaves the directive out.
case "$NGINX_CONN_PER_IP" in
  0) NGINX_LIMIT_CONN="# NGINX_CONN_PER_IP=0: no per-address limit" ;;
  *[!0-9]*|'') echo "aidetect-nginx: NGINX_CONN_PER_IP must be a number (got '$NGINX_CONN_PER_IP')" >&2; exit 64 ;;
  *) NGINX_LIMIT_CONN="limit_conn aidetect_per_ip ${NGINX_CONN_PER_IP};" ;;
esac
export NGINX_LIMIT_CONN

die() { echo "aidetect-nginx: $*" >&2; exit 64; }
for n in NGINX_UPSTREAM_TRIES NGINX_UPSTREAM_MAX_FAILS; do
  eval "v=\$$n"
  case "$v" in *[!0-9]*|'') die "$n must be a number (got '$v')" ;; esac
done

# The backends: BACKEND_URLS, comma-separated (default: BACKEND_URL), become one upstream
# group that nginx balances round-robin. A name that resolves to several addresses (a
# compose service scaled with --scale backend=N: Docker's DNS answers one address per
# replica) stands for all of them; nginx resolves names when it starts or reloads.
# Each is scheme://host[:port], without a path (it would rewrite the proxied paths).
BACKEND_SCHEME=""
NGINX_UPSTREAM_SERVERS=""
old_ifs=$IFS
set -f
IFS=','
for url in $BACKEND_URLS; do
  IFS=$old_ifs
  url=$(echo "$url" | tr -d ' \t')
  url=${url%/}
  [ -n "$url" ] || continue
  case "$url" in
    http://*) scheme=http port=80 ;;
    https://*) scheme=https port=443 ;;
    *) die "a backend URL must start with http:// or https:// (got '$url')" ;;
  esac
  [ -z "$BACKEND_SCHEME" ] || [ "$BACKEND_SCHEME" = "$scheme" ] || die "BACKEND_URLS mixes http and https"
  BACKEND_SCHEME=$scheme
  hostport=${url#*://}
  case "$hostport" in
    ''|*/*|*[!A-Za-z0-9.:_\[\]-]*) die "a backend URL is scheme://host[:port], without a path (got '$url')" ;;
    *\]:*|\[*) ;;                           # [v6]:port, [v6]
    *:*) ;;                                 # host:port
    *) hostport="$hostport:$port" ;;
  esac
  case "$hostport" in \[*\]) hostport="$hostport:$port" ;; esac
  NGINX_UPSTREAM_SERVERS="${NGINX_UPSTREAM_SERVERS}    server $hostport max_fails=$NGINX_UPSTREAM_MAX_FAILS fail_timeout=$NGINX_UPSTREAM_FAIL_TIMEOUT;
"
done
IFS=$old_ifs
set +f
[ -n "$NGINX_UPSTREAM_SERVERS" ] || die "no backend in BACKEND_URLS"
export BACKEND_SCHEME NGINX_UPSTREAM_SERVERS

# Listen on IPv6 too, where the container has it (else nginx would refuse to start).
if [ -f /proc/net/if_inet6 ]; then
  NGINX_LISTEN_V6="listen [::]:${NGINX_PORT};"
else
  NGINX_LISTEN_V6="# no IPv6 in this container"
fi
export NGINX_LISTEN_V6

envsubst '${NGINX_PORT} ${NGINX_LISTEN_V6} ${BACKEND_SCHEME} ${NGINX_UPSTREAM_SERVERS} ${NGINX_UPSTREAM_TRIES} ${NGINX_MAX_BODY} ${NGINX_MAX_BATCH_BODY}
          ${NGINX_HEADER_TIMEOUT} ${NGINX_BODY_TIMEOUT} ${NGINX_KEEPALIVE_TIMEOUT} ${NGINX_LIMIT_CONN}' \
  < /etc/nginx/aidetect/default.conf.template > /etc/nginx/conf.d/default.conf
# Debian's nginx.conf also includes sites-enabled/ (its default site listens on 80).
rm -f /etc/nginx/sites-enabled/default

echo "aidetect-nginx: listening on ${NGINX_PORT}, backends ${BACKEND_URLS}" >&2
if [ "${1:-}" = "nginx" ]; then
  nginx -t -q
fi
exec "$@"
