# Local stand-in for nginx:stable, made from Debian's nginx. Like the official
# image it logs to stdout/stderr, has envsubst (gettext-base) and curl, and runs
# `nginx -g 'daemon off;'`; unlike it, nginx.conf also includes sites-enabled/
# (emptied here) and the worker user is www-data.
ARG DEBIAN_IMAGE=local/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx gettext-base curl \
 && rm -rf /var/lib/apt/lists/* \
 && rm -f /etc/nginx/sites-enabled/default \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log \
 && mkdir -p /usr/share/nginx/html /etc/nginx/templates
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
