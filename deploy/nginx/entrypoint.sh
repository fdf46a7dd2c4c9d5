#!/bin/sh
# Render the aidetect nginx config from its template, then run the given command
# (nginx -g 'daemon off;'). Works on the official nginx image and on Debian's nginx
# alike: it does not depend on the official /docker-entrypoint.sh.
set -eu

: "${NGINX_PORT:=80}"
: "${BACKEND_URL:=http://backend:8000}"
: "${NGINX_MAX_BODY:=30m}"
: "${NGINX_MAX_BATCH_BODY:=200m}"
: "${NGINX_HEADER_TIMEOUT:=5s}"
: "${NGINX_BODY_TIMEOUT:=30s}"
: "${NGINX_KEEPALIVE_TIMEOUT:=15s}"
: "${NGINX_CONN_PER_IP:=64}"
export NGINX_PORT BACKEND_URL NGINX_MAX_BODY NGINX_MAX_BATCH_BODY \
  NGINX_HEADER_TIMEOUT NGINX_BODY_TIMEOUT NGINX_KEEPALIVE_TIMEOUT

# limit_conn takes a positive number: 0 leaves the directive out.
case "$NGINX_CONN_PER_IP" in
  0) NGINX_LIMIT_CONN="# NGINX_CONN_PER_IP=0: no per-address limit" ;;
  *[!0-9]*|'') echo "aidetect-nginx: NGINX_CONN_PER_IP must be a number (got '$NGINX_CONN_PER_IP')" >&2; exit 64 ;;
  *) NGINX_LIMIT_CONN="limit_conn aidetect_per_ip ${NGINX_CONN_PER_IP};" ;;
esac
export NGINX_LIMIT_CONN

# proxy_pass with a URI part would rewrite paths; keep only scheme://host:port.
BACKEND_URL=${BACKEND_URL%/}
case "$BACKEND_URL" in
  http://*|https://*) ;;
  *) echo "aidetect-nginx: BACKEND_URL must start with http:// or https:// (got '$BACKEND_URL')" >&2; exit 64 ;;
esac

# Listen on IPv6 too, where the container has it (else nginx would refuse to start).
if [ -f /proc/net/if_inet6 ]; then
  NGINX_LISTEN_V6="listen [::]:${NGINX_PORT};"
else
  NGINX_LISTEN_V6="# no IPv6 in this container"
fi
export NGINX_LISTEN_V6

envsubst '${NGINX_PORT} ${NGINX_LISTEN_V6} ${BACKEND_URL} ${NGINX_MAX_BODY} ${NGINX_MAX_BATCH_BODY}
          ${NGINX_HEADER_TIMEOUT} ${NGINX_BODY_TIMEOUT} ${NGINX_KEEPALIVE_TIMEOUT} ${NGINX_LIMIT_CONN}' \
  < /etc/nginx/aidetect/default.conf.template > /etc/nginx/conf.d/default.conf
# Debian's nginx.conf also includes sites-enabled/ (its default site listens on 80).
rm -f /etc/nginx/sites-enabled/default

echo "aidetect-nginx: listening on ${NGINX_PORT}, backend ${BACKEND_URL}" >&2
if [ "${1:-}" = "nginx" ]; then
  nginx -t -q
fi
exec "$@"
