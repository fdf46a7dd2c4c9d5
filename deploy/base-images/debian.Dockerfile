# Local stand-in for the Debian layer under the official images: the imported
# debootstrap root plus this machine's registry settings (CA bundle, pip, apt, npm),
# so that builds inside containers reach the same registries as the host.
ARG MINBASE_IMAGE=local/debian-minbase:bookworm
FROM ${MINBASE_IMAGE}
COPY custom-ca/ /usr/local/share/ca-certificates/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY pip.conf /etc/pip.conf
COPY apt.conf.d/ /etc/apt/apt.conf.d/
COPY npmrc /usr/etc/npmrc
ENV LANG=C.UTF-8 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    DEBIAN_FRONTEND=noninteractive
CMD ["bash"]
